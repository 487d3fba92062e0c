/**
 * `yardmaster_build_request_wait_seconds{builder}`: a Prometheus histogram kept without
 * prom-client, so that it can count from the master's start while prom-client itself is
 * loaded only when `/metrics` is first scraped (api/metrics.ts, docs/decisions/0018).
 * Renders the same text prom-client renders for a histogram (`le` first, then `builder`).
 *
 * State: per builder, the count in each bucket, the sum and the count; grows with the
 * number of builders only.
 */

/** Upper bounds, in seconds, of the buckets (besides +Inf). */
export const WAIT_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

export const WAIT_METRIC = 'yardmaster_build_request_wait_seconds';
const HELP =
  'Seconds from a build request being submitted to its build starting (claim latency), per builder.';

interface Series {
  /** Observations at or below each of WAIT_BUCKETS (not cumulative). */
  buckets: number[];
  sum: number;
  count: number;
}

/** A label value as Prometheus' text format writes it (prom-client's escaping). */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class WaitHistogram {
  private readonly series = new Map<string, Series>();

  observe(builder: string, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    let series = this.series.get(builder);
    if (!series) {
      series = { buckets: WAIT_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(builder, series);
    }
    const bucket = WAIT_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket >= 0) series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The metric in Prometheus' text format (HELP, TYPE, then each builder's lines). */
  render(): string {
    const lines = [`# HELP ${WAIT_METRIC} ${HELP}`, `# TYPE ${WAIT_METRIC} histogram`];
    for (const [builder, series] of this.series) {
      const label = `builder="${labelValue(builder)}"`;
      let cumulative = 0;
      WAIT_BUCKETS.forEach((bound, index) => {
        cumulative += series.buckets[index] ?? 0;
        lines.push(`${WAIT_METRIC}_bucket{le="${bound}",${label}} ${cumulative}`);
      });
      lines.push(`${WAIT_METRIC}_bucket{le="+Inf",${label}} ${series.count}`);
      lines.push(`${WAIT_METRIC}_sum{${label}} ${series.sum}`);
      lines.push(`${WAIT_METRIC}_count{${label}} ${series.count}`);
    }
    return lines.join('\n');
  }
}
