import type { LogChunk, UpdateEntry } from '@yardmaster/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JOIN_BYTES, LIVE_FLUSH_MS, splitChunk, UpdateBuffer } from './update-buffer.js';

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

  it('joins a run of chunks once, offsets counted in code points, around other entries', () => {
    const { sent, buffer } = collect();
    buffer.append(['stdout', ['😀\n', [1], [1]]]);
    buffer.append(['stdout', ['ab\n', [2], [2]]]);
    buffer.append(['stdout', ['c\nd\n', [1, 3], [3, 3]]]);
    buffer.append(['header', ['h\n', [1], [4]]]);
    buffer.append(['stdout', ['e\n', [1], [5]]]);
    buffer.append(['stdout', ['f\n', [1], [6]]]);
    buffer.flush();
    expect(sent).toEqual([
      [
        ['stdout', ['😀\nab\nc\nd\n', [1, 4, 6, 8], [1, 2, 3, 3]]],
        ['header', ['h\n', [1], [4]]],
        ['stdout', ['e\nf\n', [1, 3], [5, 6]]],
      ],
    ]);
    buffer.append(['stdout', ['g\n', [1], [7]]]);
    buffer.flush();
    expect(sent[1]).toEqual([['stdout', ['g\n', [1], [7]]]]);
  });

  it('sends chunks as entries of their own once the joined one holds JOIN_BYTES', () => {
    const { sent, buffer } = collect({ bufferSize: 1024 * 1024, bufferTimeoutMs: 5000 });
    const line = `${'y'.repeat(JOIN_BYTES / 2)}\n`;
    const chunk = (time: number): LogChunk => [line, [line.length - 1], [time]];
    for (let time = 1; time <= 4; time++) buffer.append(['stdout', chunk(time)]);
    buffer.append(['stdout', ['x\n', [1], [5]]]);
    buffer.flush();
    // Buildbot's size of one chunk: its text + 16 bytes; two reach JOIN_BYTES.
    expect(sent).toEqual([
      [
        ['stdout', [line + line, [line.length - 1, 2 * line.length - 1], [1, 2]]],
        ['stdout', [line + line, [line.length - 1, 2 * line.length - 1], [3, 4]]],
        ['stdout', ['x\n', [1], [5]]],
      ],
    ]);
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

  it('cuts a chunk without line lists at line boundaries too (send_line_lists false)', () => {
    const { sent, buffer } = collect({ bufferSize: 40, bufferTimeoutMs: 5000 });
    const lines = ['a'.repeat(12), 'b'.repeat(12), 'cccc😀cccc', 'dddd'].map((line) => `${line}\n`);
    buffer.append(['stdout', [lines.join(''), [], []]]);
    expect(sent.flat()).toEqual(lines.map((line) => ['stdout', [line, [], []]]));
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
