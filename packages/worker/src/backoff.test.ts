import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from 500 ms up to 30 s', () => {
    const exact = { jitter: 0 };
    expect([0, 1, 2, 3, 6, 7, 20].map((attempt) => backoffDelayMs(attempt, exact))).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000, 30_000,
    ]);
  });

  it('adds ±20 % jitter without exceeding the maximum', () => {
    expect(backoffDelayMs(0, { random: () => 0 })).toBe(400);
    expect(backoffDelayMs(0, { random: () => 1 })).toBe(600);
    expect(backoffDelayMs(10, { random: () => 1 })).toBe(30_000);
    expect(backoffDelayMs(2, { maxMs: 1500, jitter: 0 })).toBe(1500);
  });
});
