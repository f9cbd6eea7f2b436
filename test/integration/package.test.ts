/**
 * What the published package holds (issue #17, packaging): a LICENSE, no unused runtime
 * dependency, source maps whose sources ship, a launcher that says what to run when dist/ is
 * missing, and a CLI that works from an installed copy.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { installedCopy, packFiles, root } from '../fixtures/installed-copy.js';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  license: string;
  files: string[];
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

test('the package ships an MIT LICENSE naming its authors', () => {
  const text = readFileSync(join(root, 'LICENSE'), 'utf8');
  assert.is(pkg.license, 'MIT');
  assert.match(text, 'MIT License');
  assert.match(text, 'Copyright (c) 2026 the shoal authors');
  assert.ok(packFiles().includes('LICENSE'));
});

test('every runtime dependency is imported by the shipped code', () => {
  const sources = walk(join(root, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  for (const dep of Object.keys(pkg.dependencies)) {
    // import, import(), or a lazy require (createRequire) of the package or one of its files
    const used = [`from '${dep}'`, `import('${dep}')`, `('${dep}')`, `('${dep}/`].some((s) => sources.includes(s));
    assert.ok(used, `${dep} is never imported`);
  }
});

test('git installs build dist/ (prepare) and the source maps point at sources that ship', () => {
  assert.match(pkg.scripts.prepare ?? '', 'npm run build');
  const files = new Set(packFiles());
  const maps = [...files].filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 20, `${maps.length} maps`);
  assert.ok(!maps.some((f) => f.startsWith('dist/test') || f.startsWith('dist/perf')));
  for (const m of maps) {
    const { sources } = JSON.parse(readFileSync(join(root, m), 'utf8')) as { sources: string[] };
    for (const s of sources) {
      const shipped = relative(root, join(root, dirname(m), s));
      if (!existsSync(join(root, shipped))) continue; // a stale build output of a removed file (prepack cleans dist/)
      assert.ok(files.has(shipped), `${m} points at ${shipped}, which is not in the package`);
    }
  }
});

test('bin/shoal.js in an unbuilt checkout says what to run instead of a module error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-unbuilt-'));
  mkdirSync(join(dir, 'bin'));
  cpSync(join(root, 'bin', 'shoal.js'), join(dir, 'bin', 'shoal.js'));
  writeFileSync(join(dir, 'package.json'), '{ "name": "shoal", "type": "module" }\n');
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'shoal.js'), '--help'], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, 'npm run build');
  assert.not.match(r.stderr, 'ERR_MODULE_NOT_FOUND');
  assert.is(r.stderr.trim().split('\n').length, 2, r.stderr);
});

test('an installed copy runs its CLI and a plain-JS program importing shoal', () => {
  const { project, bin } = installedCopy();
  const help = execFileSync(process.execPath, [bin, '--help'], { cwd: project, encoding: 'utf8' });
  assert.match(help, 'usage: shoal');
  writeFileSync(join(project, 'tasks.mjs'), 'export function add(a, b) {\n  return a + b;\n}\n');
  writeFileSync(
    join(project, 'main.mjs'),
    "import { Runtime } from 'shoal';\nconst rt = await Runtime.start({ workers: 1 });\ntry {\n  console.log(await rt.run('tasks.mjs', 'add', [2, 3]));\n} finally {\n  await rt.close();\n}\n",
  );
  const out = execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8' });
  assert.is(out.trim(), '5');
});

test.run();
