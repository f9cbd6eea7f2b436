#!/usr/bin/env node
// The `shoal` command: a thin launcher for the compiled CLI (dist/src/cli/main.js). In a source
// checkout that has not been built yet, say what to run instead of failing with a module error.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(
    'shoal: the compiled CLI (dist/) is missing: this looks like a source checkout that was not built.\n' +
      'Run `npm install` (its `prepare` step builds) or `npm run build` in the shoal folder, then try again.',
  );
  process.exit(1);
}
const { start } = await import(main.href);
start();
