import { describe, expect, it } from 'vitest';
import {
  elapsed,
  formatAgo,
  formatBytes,
  formatDuration,
  formatTime,
  formatValue,
  plural,
} from './format.js';

describe('formatDuration', () => {
  it('reads at a glance from seconds to days', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-5)).toBe('0s');
    expect(formatDuration(42.9)).toBe('42s');
    expect(formatDuration(60)).toBe('1m 00s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(3600 * 2 + 180)).toBe('2h 03m');
    expect(formatDuration(86400 * 3 + 3600 * 4 + 59)).toBe('3d 4h');
  });
});

describe('formatAgo', () => {
  it('says how long ago, coarser as it gets older', () => {
    expect(formatAgo(null, 100)).toBe('—');
    expect(formatAgo(100, 101)).toBe('just now');
    expect(formatAgo(100, 130)).toBe('30s ago');
    expect(formatAgo(100, 100 + 600)).toBe('10m ago');
    expect(formatAgo(0, 3600 * 5)).toBe('5h ago');
    expect(formatAgo(0, 86400 * 3)).toBe('3d ago');
  });
});

describe('elapsed', () => {
  it('runs to now until the thing completes', () => {
    expect(elapsed(null, null, 50)).toBeNull();
    expect(elapsed(10, null, 50)).toBe(40);
    expect(elapsed(10, 30, 50)).toBe(20);
    expect(elapsed(60, null, 50)).toBe(0);
  });
});

describe('formatTime, formatBytes, formatValue, plural', () => {
  it('formats local times', () => {
    const t = new Date(2025, 2, 4, 13, 5, 9).getTime() / 1000;
    expect(formatTime(t)).toBe('2025-03-04 13:05:09');
    expect(formatTime(null)).toBe('—');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(20 * 1024 * 1024 + 300 * 1024)).toBe('20 MB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3072 GB');
  });

  it('formats property values and counts', () => {
    expect(formatValue('main')).toBe('main');
    expect(formatValue(3)).toBe('3');
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
    expect(formatValue(null)).toBe('null');
    expect(plural(1, 'build')).toBe('1 build');
    expect(plural(3, 'build')).toBe('3 builds');
    expect(plural(2, 'change', 'changes')).toBe('2 changes');
  });
});
