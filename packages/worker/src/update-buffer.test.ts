import type { UpdateEntry } from '@yardmaster/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LIVE_FLUSH_MS, splitChunk, UpdateBuffer } from './update-buffer.js';

afterEach(() => {
  vi.useRealTimers();
});

function collect(options = { bufferSize: 65536, bufferTimeoutMs: 5000 }) {
  const sent: UpdateEntry[][] = [];
  const buffer = new UpdateBuffer((entries) => sent.push(entries), options);
  return { sent, buffer };
}

describe('UpdateBuffer', () => {
  it('joins consecutive chunks of one stream and flushes within LIVE_FLUSH_MS', async () => {
    vi.useFakeTimers();
    const { sent, buffer } = collect();
    buffer.append(['stdout', ['a\n', [1], [1]]]);
    buffer.append(['stdout', ['bc\n', [2], [2]]]);
    buffer.append(['stderr', ['e\n', [1], [3]]]);
    buffer.append(['rc', 0]);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(LIVE_FLUSH_MS);
    expect(sent).toEqual([
      [
        ['stdout', ['a\nbc\n', [1, 4], [1, 2]]],
        ['stderr', ['e\n', [1], [3]]],
        ['rc', 0],
      ],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('joins log chunks only for the same log file', () => {
    const { sent, buffer } = collect();
    buffer.append(['log', ['a.log', ['1\n', [1], [1]]]]);
    buffer.append(['log', ['a.log', ['2\n', [1], [2]]]]);
    buffer.append(['log', ['b.log', ['3\n', [1], [3]]]]);
    buffer.flush();
    expect(sent).toEqual([
      [
        ['log', ['a.log', ['1\n2\n', [1, 3], [1, 2]]]],
        ['log', ['b.log', ['3\n', [1], [3]]]],
      ],
    ]);
  });

  it('sends the buffer first when an entry would overflow it', () => {
    const { sent, buffer } = collect({ bufferSize: 60, bufferTimeoutMs: 5000 });
    buffer.append(['stdout', ['0123456789\n', [10], [1]]]); // 11 + 16 = 27
    buffer.append(['stderr', ['0123456789\n', [10], [1]]]); // 54
    expect(sent).toHaveLength(0);
    buffer.append(['rc', 0]); // 74 > 60
    expect(sent).toHaveLength(1);
    buffer.close();
  });

  it('cuts a chunk bigger than buffer_size at line boundaries', () => {
    const { sent, buffer } = collect({ bufferSize: 40, bufferTimeoutMs: 5000 });
    buffer.append(['stdout', ['aaaa\nbbbb\ncccc\ndddd\n', [4, 9, 14, 19], [1, 2, 3, 4]]]);
    expect(sent).toEqual([
      [['stdout', ['aaaa\n', [4], [1]]]],
      [['stdout', ['bbbb\n', [4], [2]]]],
      [['stdout', ['cccc\n', [4], [3]]]],
      [['stdout', ['dddd\n', [4], [4]]]],
    ]);
  });

  it('never flushes sooner than buffer_timeout when that is shorter, and drops everything on close', async () => {
    vi.useFakeTimers();
    const { sent, buffer } = collect({ bufferSize: 65536, bufferTimeoutMs: 0 });
    buffer.append(['rc', 1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([[['rc', 1]]]);
    buffer.append(['rc', 2]);
    buffer.close();
    buffer.append(['rc', 3]);
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('splitChunk', () => {
  it('keeps offsets relative to each piece, in code points', () => {
    expect(splitChunk(['😀\nab\n', [1, 4], [1, 2]], 20)).toEqual([
      ['😀\n', [1], [1]],
      ['ab\n', [2], [2]],
    ]);
  });
});
