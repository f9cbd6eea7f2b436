/**
 * User story: "run my suite against last release's figures from a script, and fail on a
 * regression" — the programmatic twin of `shoal bench suite.js --baseline prev.json`.
 *
 * Runs on the main thread: `npm run build && node dist/examples/bench-in-ci.js`
 */
import { formatSuiteTable, runSuite } from 'shoal';

const suite = new URL('./bench-suite.js', import.meta.url);
// a short first run stands in for the baseline a CI job would keep from main; the same code
// measured twice on a busy machine can differ by 4x, hence the loose threshold of this demo (a
// case regresses only when the 95% CI of its median is past it too, not its median alone)
const baseline = await runSuite({ module: suite, timeMs: 100, only: ['join'] });
const now = await runSuite({ module: suite, timeMs: 100, only: ['join'], baseline, threshold: 3 });
console.log(formatSuiteTable(now));
if (now.regressions.length) {
  console.log(`regressed: ${now.regressions.join(', ')}`);
  process.exitCode = 1;
}
