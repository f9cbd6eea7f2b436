/**
 * The Content-Type of the Prometheus text exposition format (0.0.4), the value prom-client's
 * `Registry.PROMETHEUS_CONTENT_TYPE` holds, kept here so `import 'shoal'` can export it without
 * loading prom-client (src/inspect/metrics.ts loads it with the first `rt.metrics()`);
 * test/unit/metrics-content-type.test.ts checks the two agree.
 *
 * Runs on any thread. Owns nothing.
 */

/** The Content-Type of the text exposition format, for an HTTP answer. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
