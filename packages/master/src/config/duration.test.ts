import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads a number as seconds', () => {
    expect(parseDuration(30)).toBe(30_000);
    expect(parseDuration(0.5)).toBe(500);
    expect(parseDuration(0)).toBe(0);
  });

  it('reads strings with units', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
  });

  it('adds up several parts, with or without spaces', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1m 30s')).toBe(90_000);
    expect(parseDuration(' 2m500ms ')).toBe(120_500);
  });

  it('rejects anything else', () => {
    for (const value of ['30 seconds', '30', '', 'ms', '1h30', '-5s', '5 m x', 'forever']) {
      expect(parseDuration(value), value).toBeUndefined();
    }
    for (const value of [-1, Number.NaN, Infinity, null, undefined, true, {}, ['30s']]) {
      expect(parseDuration(value), JSON.stringify(value)).toBeUndefined();
    }
  });
});

describe('formatDuration', () => {
  it('writes the shortest readable form', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_200_000)).toBe('20m');
    expect(formatDuration(90_061_001)).toBe('1d1h1m1s1ms');
  });

  it('round-trips with parseDuration', () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 86_400_000 + 5]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
