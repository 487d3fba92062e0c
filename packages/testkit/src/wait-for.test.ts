import { describe, expect, it } from 'vitest';

import { waitFor, WaitForTimeoutError } from './wait-for.js';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('awaits async conditions and treats throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        await Promise.resolve();
        if (calls < 3) throw new Error('not ready');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
  });

  it('times out with the message and the last value', async () => {
    const error = await waitFor(() => 0, {
      timeoutMs: 60,
      intervalMs: 10,
      message: 'count to rise',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitForTimeoutError);
    expect((error as Error).message).toMatch(
      /^count to rise: not met after \d+ ms \(\d+ attempts\); last value: 0$/,
    );
  });

  it('times out with the last error and keeps it as the cause', async () => {
    const error = await waitFor(
      () => {
        throw new Error('still 3 pending builds');
      },
      { timeoutMs: 30, message: () => 'builds to finish' },
    ).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('builds to finish');
    expect((error as Error).message).toContain('last error: still 3 pending builds');
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('cuts off a condition that never settles', async () => {
    const started = Date.now();
    const error = await waitFor(() => new Promise<never>(() => undefined), { timeoutMs: 50 }).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toContain('the condition never settled');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
