#!/usr/bin/env node
// Generates docs/api.md, the API reference, from the TSDoc comments of every name src/index.ts
// exports (`npm run docs`). TypeDoc needs the TypeScript compiler API, which TypeScript 7 (the Go
// port this project builds with) does not ship, so this reads the sources directly: for each
// export it follows the re-export to its declaration, takes the doc comment right above it and
// the declaration's head (a class also lists its documented public members; an interface or type
// its whole body). Sections follow the `//` comments in src/index.ts.
//
// usage: node scripts/api-docs.mjs           write docs/api.md
//        node scripts/api-docs.mjs --check   exit 1 when docs/api.md is stale or an export has no doc
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The exports of src/index.ts: [{ section, name, from (file) }] in order. */
function indexExports() {
  const file = join(root, 'src/index.ts');
  const text = readFileSync(file, 'utf8');
  const out = [];
  let section = 'errors';
  const re = /^\/\/\s*(.+)$|^export\s+(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)';/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) {
      section = m[1].trim();
      continue;
    }
    for (const part of m[3].split(',')) {
      const p = part.trim().replace(/^type\s+/, '');
      if (!p) continue;
      const [orig, alias] = p.split(/\s+as\s+/);
      out.push({ section, name: alias ?? orig, orig, from: resolveTs(file, m[4]) });
    }
  }
  return out;
}

function resolveTs(fromFile, spec) {
  return join(dirname(fromFile), spec.replace(/\.js$/, '.ts'));
}

const DECL = (name) =>
  new RegExp(
    `^export\\s+(?:declare\\s+)?(?:default\\s+)?(?:async\\s+)?(?:abstract\\s+)?(function\\*?|class|const|let|interface|type|enum)\\s+${name}\\b`,
    'm',
  );

/** Find the declaration of `name` starting at `file`, following re-exports. */
function findDecl(file, name, depth = 0) {
  const text = readFileSync(file, 'utf8');
  const m = DECL(name).exec(text);
  if (m) return { file, text, at: m.index, kind: m[1] };
  if (depth > 3) return undefined;
  const re = /^export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)';/gm;
  for (let r = re.exec(text); r; r = re.exec(text)) {
    const names = r[1].split(',').map((s) => s.trim().replace(/^type\s+/, ''));
    for (const n of names) {
      const [orig, alias] = n.split(/\s+as\s+/);
      if ((alias ?? orig) === name) return findDecl(resolveTs(file, r[2]), orig, depth + 1);
    }
  }
  return undefined;
}

/**
 * The /** ... *\/ block ending right before `at` (only whitespace and tool comments such as
 * `// biome-ignore ...` between), as plain lines.
 */
function docBefore(text, at) {
  const before = text
    .slice(0, at)
    .replace(/(\n[ \t]*\/\/ biome-ignore[^\n]*)+\s*$/, '')
    .replace(/\s+$/, '');
  if (!before.endsWith('*/')) return undefined;
  const start = before.lastIndexOf('/**');
  if (start < 0) return undefined;
  return before
    .slice(start + 3, -2)
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, '').replace(/\s+$/, ''))
    .join('\n')
    .trim();
}

/** Markdown for a doc comment: @example blocks become code. */
function docMarkdown(doc) {
  const lines = doc.split('\n');
  const out = [];
  let inExample = false;
  for (const l of lines) {
    if (/^@example\b/.test(l)) {
      if (inExample) out.push('```');
      out.push('', '```ts');
      inExample = true;
      const rest = l.replace(/^@example\s*/, '');
      if (rest) out.push(rest);
      continue;
    }
    if (/^@\w+/.test(l) && inExample) {
      out.push('```', '');
      inExample = false;
    }
    if (/^@internal\b/.test(l)) continue;
    out.push(l);
  }
  if (inExample) out.push('```');
  return out.join('\n').trim();
}

/** The declaration's head: up to the body's opening brace, or the whole statement for types. */
function head(text, at, kind) {
  const rest = text.slice(at);
  if (kind === 'interface' || kind === 'type' || kind === 'enum') {
    // up to the closing brace at column 0, or the first ';' at the end of a line for a type alias
    const close = kind === 'type' ? /;\s*$/m.exec(rest) : /^\}/m.exec(rest);
    const end = close ? close.index + close[0].trimEnd().length : rest.indexOf('\n');
    return rest.slice(0, end).replace(/^export\s+/, '');
  }
  if (kind === 'const' || kind === 'let') return rest.slice(0, rest.indexOf('\n')).replace(/^export\s+/, '');
  const brace = /\{\s*$/m.exec(rest);
  const sig = brace ? rest.slice(0, brace.index) : rest.slice(0, rest.indexOf('\n'));
  return sig.replace(/^export\s+/, '').trim();
}

/** Documented public members of the class declared at `at`: [{ sig, doc }]. */
function classMembers(text, at) {
  const body = text.slice(at);
  const end = /^\}/m.exec(body);
  const cls = body.slice(0, end ? end.index : body.length);
  const out = [];
  const re = /^ {2}(?!private|protected|#|\/|\*|\})(\S[^\n]*)$/gm;
  for (let m = re.exec(cls); m; m = re.exec(cls)) {
    const line = m[1];
    if (!/^(static\s+|readonly\s+|async\s+|get\s+|set\s+|abstract\s+|\[Symbol\.\w+\]|[A-Za-z_$][\w$]*\s*[(<:?!])/.test(line))
      continue;
    const doc = docBefore(cls, m.index);
    if (!doc || /@internal\b/.test(doc)) continue;
    let sig = line.replace(/\s*\{\s*$/, '').replace(/;$/, '');
    // a signature spread over lines: take up to the line ending the parameter list
    if (/\($/.test(sig) || (sig.includes('(') && !sig.includes(')'))) {
      const rest = cls.slice(m.index);
      const close = /^ {2}\)[^\n]*$/m.exec(rest);
      if (close) sig = rest.slice(0, close.index + close[0].length).replace(/\s*\{\s*$/, '').trim();
    }
    out.push({ sig: sig.trim(), doc });
  }
  return out;
}

/** Build the markdown; `missing` collects exports without a doc comment. */
export function generate() {
  const missing = [];
  const sections = new Map();
  for (const e of indexExports()) {
    const d = findDecl(e.from, e.orig);
    let md;
    if (!d) {
      missing.push(`${e.name}: declaration not found`);
      md = `### \`${e.name}\`\n\n(declaration not found)\n`;
    } else {
      const doc = docBefore(d.text, d.at);
      if (!doc) missing.push(`${e.name}: no doc comment (${relative(root, d.file)})`);
      const parts = [`### \`${e.name}\``, '', `\`${relative(root, d.file)}\``, '', '```ts', head(d.text, d.at, d.kind), '```'];
      if (doc) parts.push('', docMarkdown(doc));
      if (d.kind === 'class') {
        const members = classMembers(d.text, d.at);
        if (members.length) {
          parts.push('', '| member | what it does |', '|---|---|');
          for (const m of members) {
            const first = m.doc.split(/\n\s*\n|\n@/)[0].replace(/\s*\n\s*/g, ' ');
            parts.push(`| \`${m.sig.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')}\` | ${first.replace(/\|/g, '\\|')} |`);
          }
        }
      }
      md = parts.join('\n') + '\n';
    }
    if (!sections.has(e.section)) sections.set(e.section, []);
    sections.get(e.section).push({ name: e.name, md });
  }
  const toc = [...sections].map(([s, items]) => `- **${s}**: ${items.map((i) => `\`${i.name}\``).join(', ')}`);
  const body = [...sections].map(([s, items]) => `## ${s}\n\n${items.map((i) => i.md).join('\n')}`);
  const text = [
    '# shoal API reference',
    '',
    '<!-- generated by `npm run docs` (scripts/api-docs.mjs) from the TSDoc of every export of src/index.ts: do not edit -->',
    '',
    "Every name `import { ... } from 'shoal'` gives, grouped as in `src/index.ts`. The README shows",
    'them at work; each entry here is the declaration and its doc comment. Internals that',
    '`src/index.ts` does not re-export are not API.',
    '',
    ...toc,
    '',
    ...body,
  ].join('\n');
  return { text: text.replace(/\n{3,}/g, '\n\n').trimEnd() + '\n', missing };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { text, missing } = generate();
  const target = join(root, 'docs', 'api.md');
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    const stale = current !== text;
    if (stale) console.error('docs/api.md is stale: run `npm run docs`');
    for (const m of missing) console.error(`undocumented export: ${m}`);
    process.exit(stale || missing.length ? 1 : 0);
  }
  writeFileSync(target, text);
  for (const m of missing) console.error(`undocumented export: ${m}`);
  console.log(`wrote ${relative(root, target)}`);
}
