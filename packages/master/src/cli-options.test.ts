import { describe, expect, it } from 'vitest';
import { START_HELP, UsageError, parseStartOptions } from './cli-options.js';

describe('--drain-timeout', () => {
  it('accepts 0 (do not wait: running builds are re-queued at once)', () => {
    expect(parseStartOptions(['--drain-timeout', '0'], {}).drainTimeoutMs).toBe(0);
    expect(parseStartOptions([], { YARDMASTER_DRAIN_TIMEOUT: '0' }).drainTimeoutMs).toBe(0);
  });

  it('takes seconds, fractions too, the flag before the environment', () => {
    expect(parseStartOptions(['--drain-timeout', '90'], {}).drainTimeoutMs).toBe(90_000);
    expect(parseStartOptions(['--drain-timeout=1.5'], {}).drainTimeoutMs).toBe(1_500);
    expect(
      parseStartOptions(['--drain-timeout', '0'], { YARDMASTER_DRAIN_TIMEOUT: '60' })
        .drainTimeoutMs,
    ).toBe(0);
    expect(parseStartOptions([], {}).drainTimeoutMs).toBeUndefined();
  });

  it.each(['-1', 'soon', ' ', 'Infinity', '1e400'])('refuses %j with a clear error', (value) => {
    expect(() => parseStartOptions([`--drain-timeout=${value}`], {})).toThrow(UsageError);
    expect(() => parseStartOptions([`--drain-timeout=${value}`], {})).toThrow(
      /--drain-timeout must be a number of seconds, 0 or more/,
    );
  });

  it('says what 0 means in --help', () => {
    expect(START_HELP).toMatch(/--drain-timeout[\s\S]*0: do not wait/);
  });
});
