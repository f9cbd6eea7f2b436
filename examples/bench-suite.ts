/**
 * User story: "benchmark two ways of doing the same thing, and fail CI when one gets slower".
 * A suite module: every exported function is a case; `setup` (its result is passed to each call)
 * and `teardown` are optional. Each case runs in a fresh worker thread of its own.
 *
 * Run: `npm run build && shoal bench dist/examples/bench-suite.js --json bench.json`, then in CI
 * `shoal bench dist/examples/bench-suite.js --baseline bench.json --threshold 10%` (exit 1 when a
 * case is over 10% slower than in bench.json). Imported as a plain module it only defines cases.
 */
export function setup(): { words: string[] } {
  return { words: Array.from({ length: 200 }, (_, i) => `word${i}`) };
}

export function joinWithPlus(s: { words: string[] }): string {
  let out = '';
  for (const w of s.words) out += w + ' ';
  return out;
}

export function joinWithArray(s: { words: string[] }): string {
  return s.words.join(' ');
}

export async function asyncRoundTrip(): Promise<number> {
  return await Promise.resolve(42);
}
