#!/usr/bin/env node
// `npm start` and `npm test` run this first, so that both work in a fresh clone with only Node and
// npm: when the dependencies are not installed yet, install them exactly as locked (`npm ci`).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}node_modules/.package-lock.json`)) {
  console.error('shoal: installing the dependencies first (npm ci)...');
  // --ignore-scripts: `prepare` would build before the caller's own build step; the caller builds next
  execSync('npm ci --no-audit --no-fund --ignore-scripts', { cwd: root, stdio: 'inherit' });
}
