/**
 * The layer rule of src/ (stated at the top of src/index.ts and in docs/design.md), checked on
 * the source: every relative import of every src/**\/*.ts file, type-only imports included.
 *
 *   core < shm < codec < shared-chan < {pool, net} < features (http, agent, ...) < runtime < cli
 *
 * 1. A folder imports only from its own folder or from folders of a lower rank (RANK below). Two
 *    folders of the same rank never import each other (pool and net; feature and feature).
 * 2. Variants side by side never import each other (VARIANTS below): pool/shared and
 *    pool/message, net/reactor and net/worker, shared-chan/memory and shared-chan/port. What they
 *    share sits at their parent folder's root.
 * 3. No import cycle between files.
 *
 * A new folder under src/ is a feature unless RANK says otherwise: one line in the table.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder (or root file) of src/ -> rank; an import may only go to a lower rank or its own folder. */
const RANK: Record<string, number> = {
  'config.ts': -1, // every SHOAL_* variable: read by every layer
  core: 0,
  shm: 1,
  codec: 2,
  'shared-chan': 3,
  pool: 4,
  net: 4,
  // features: http, agent, inspect, harness and any folder not listed here
  runtime: 6,
  cli: 7,
  'index.ts': 8, // the public entry point: re-exports only
};
/**
 * Imports allowed across the ranks: config.ts builds its ConfigError on ShoalError, and
 * core/errors.ts imports nothing of shoal's (the error classes are the floor of every layer).
 */
const ALLOWED = new Set(['config.ts -> core/errors.ts']);
/** Rank of a folder not listed in RANK. */
const FEATURE = 5;
/** Rank of a file at the root of src/ not listed in RANK (only index.ts-like entry points). */
const ENTRY = 8;

/** Sibling folders that never import each other (variants of one concept, or each thread's side). */
const VARIANTS: string[][] = [
  ['pool/shared', 'pool/message'],
  ['net/reactor', 'net/worker'],
  ['shared-chan/memory', 'shared-chan/port'],
];

const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = join(root, 'src');

function walk(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `path` relative to src/, with forward slashes. */
const rel = (p: string): string => relative(src, p).split(sep).join('/');

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of one file, as paths relative to src/ (targets outside src/ left out). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (!target.startsWith(src + sep)) continue;
    out.push(rel(target));
  }
  return out;
}

function rankOf(path: string): { folder: string; rank: number } {
  const top = path.split('/')[0]!;
  if (!path.includes('/')) return { folder: top, rank: RANK[top] ?? ENTRY };
  return { folder: top, rank: RANK[top] ?? FEATURE };
}

const files = walk(src).map((f) => ({ path: rel(f), imports: importsOf(f) }));

test('the layer table matches src/: every import goes to its own folder or a lower layer', () => {
  const bad: string[] = [];
  for (const f of files) {
    const from = rankOf(f.path);
    for (const t of f.imports) {
      const to = rankOf(t);
      if (to.folder === from.folder) continue;
      if (to.rank < from.rank) continue;
      if (ALLOWED.has(`${f.path} -> ${t}`)) continue;
      const why =
        to.rank === from.rank
          ? `${from.folder}/ and ${to.folder}/ are on the same layer (${from.rank}) and never import each other`
          : `${to.folder} is on layer ${to.rank}, above ${from.folder} (layer ${from.rank})`;
      bad.push(`src/${f.path} imports src/${t}: ${why}`);
    }
  }
  assert.ok(files.length > 50, `found only ${files.length} files under ${src}`);
  assert.equal(bad, [], `layer rule broken (see RANK in test/unit/layers.test.ts):\n  ${bad.join('\n  ')}`);
});

test('variants side by side never import each other (pool/shared-pool/message, net/reactor-net/worker...)', () => {
  const bad: string[] = [];
  const inside = (p: string, folder: string): boolean => p.startsWith(`${folder}/`);
  for (const group of VARIANTS) {
    for (const f of files) {
      const home = group.find((g) => inside(f.path, g));
      if (home === undefined) continue;
      for (const t of f.imports) {
        const other = group.find((g) => g !== home && inside(t, g));
        if (other !== undefined)
          bad.push(`src/${f.path} imports src/${t}: ${home}/ and ${other}/ never import each other`);
      }
    }
  }
  assert.equal(
    bad,
    [],
    `variant rule broken (move what both share to the parent folder's root):\n  ${bad.join('\n  ')}`,
  );
});

test('no import cycle between files of src/', () => {
  const graph = new Map(files.map((f) => [f.path, f.imports]));
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (v: string): void => {
    state.set(v, 1);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      const s = state.get(w);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(w)), w].map((p) => `src/${p}`).join(' -> '));
      else if (s === undefined) visit(w);
    }
    stack.pop();
    state.set(v, 2);
  };
  for (const f of files) if (!state.has(f.path)) visit(f.path);
  assert.equal(cycles, [], `import cycles (type-only imports count):\n  ${cycles.join('\n  ')}`);
});

test('the checker sees the imports it must see', () => {
  // guards the regex: a known import of each form is found
  const boot = files.find((f) => f.path === 'pool/worker-boot.ts');
  assert.ok(boot?.imports.includes('pool/shared/worker.ts'), 'pool/worker-boot.ts -> pool/shared/worker.ts not found');
  const index = files.find((f) => f.path === 'index.ts');
  assert.ok(index?.imports.includes('runtime/runtime.ts'), 'index.ts -> runtime/runtime.ts not found');
  assert.ok(index?.imports.includes('core/errors.ts'), 'multi-line export ... from not found');
});

test.run();
