import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WAIT_BUCKETS, WAIT_METRIC, WaitHistogram } from './wait-histogram.js';

describe('WaitHistogram', () => {
  it('renders what a prom-client histogram with the same observations renders', async () => {
    const registry = new Registry();
    const reference = new Histogram({
      name: WAIT_METRIC,
      help: 'Seconds from a build request being submitted to its build starting (claim latency), per builder.',
      labelNames: ['builder'],
      buckets: WAIT_BUCKETS,
      registers: [registry],
    });
    const ours = new WaitHistogram();
    const observations: [string, number][] = [
      ['slow', 0.05],
      ['slow', 0.1],
      ['slow', 7.5],
      ['fast', 0.3],
      ['odd "name"\\x', 4000],
      ['slow', 1800],
    ];
    for (const [builder, seconds] of observations) {
      reference.observe({ builder }, seconds);
      ours.observe(builder, seconds);
    }

    expect(`${ours.render()}\n`).toBe(await registry.metrics());
  });

  it('renders only the header before the first observation', () => {
    expect(new WaitHistogram().render().split('\n')).toEqual([
      expect.stringMatching(/^# HELP yardmaster_build_request_wait_seconds /),
      '# TYPE yardmaster_build_request_wait_seconds histogram',
    ]);
  });
});
