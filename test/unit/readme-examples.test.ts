/**
 * Every ```ts / ```js block in README.md comes from a runnable example: the block is preceded by
 * `<!-- example: examples/<file> -->`, and its code appears in that file (fragments separated by a
 * line `// ...` each appear, in order). test/integration/examples.test.ts runs the examples, so a
 * README snippet cannot drift from code that runs. The rule is described in examples/README.md.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkReadme, type SnippetProblem } from '../fixtures/readme-snippets.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('every ts/js block of README.md is marked with the example it comes from, and appears in it', () => {
  const readme = readFileSync(root + 'README.md', 'utf8');
  const { blocks, problems } = checkReadme(readme, (p) =>
    existsSync(root + p) ? readFileSync(root + p, 'utf8') : undefined,
  );
  assert.ok(blocks >= 5, `found only ${blocks} code blocks`);
  assert.equal(problems, [], problems.map((p: SnippetProblem) => `README.md:${p.line}: ${p.message}`).join('\n'));
});

test('the checker refuses an unmarked block, a missing file and code that is not in the file', () => {
  const files: Record<string, string> = { 'examples/a.ts': 'const a = 1;\nconsole.log(a);\nconst b = 2;\n' };
  const read = (p: string): string | undefined => files[p];
  const md = [
    '```ts',
    'const a = 1;',
    '```',
    '<!-- example: examples/missing.ts -->',
    '```ts',
    'x',
    '```',
    '<!-- example: examples/a.ts -->',
    '```ts',
    'const a = 2;',
    '```',
    '<!-- example: examples/a.ts -->',
    '```js',
    'const a = 1;',
    '// ...',
    'const b = 2;',
    '```',
    '<!-- example: examples/a.ts -->',
    '```ts',
    'const b = 2;',
    '// ...',
    'const a = 1;',
    '```',
    '```sh',
    'not checked',
    '```',
  ].join('\n');
  const { blocks, problems } = checkReadme(md, read);
  assert.is(blocks, 5);
  assert.equal(
    problems.map((p) => p.line),
    [1, 5, 9, 19],
  );
  assert.match(problems[0]!.message, 'no <!-- example: examples/... --> marker');
  assert.match(problems[1]!.message, 'examples/missing.ts does not exist');
  assert.match(problems[2]!.message, 'not found in examples/a.ts');
});

test.run();
