/**
 * The demo's measuring loop, shared by its scenes: run `count` calls with at most `window` in
 * flight and report calls per second; the median of a few rounds.
 *
 * Runs on the main thread of the CLI process. Owns nothing.
 */

/**
 * Run `one(0..count-1)` with at most `window` calls in flight; resolves with calls per second.
 *
 * @example
 * const perSec = await windowedRate(10_000, 256, (i) => rt.run(url, 'fine', [i]));
 */
export async function windowedRate(
  count: number,
  window: number,
  one: (i: number) => Promise<unknown>,
): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

/** The median of `xs` (the upper one of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
