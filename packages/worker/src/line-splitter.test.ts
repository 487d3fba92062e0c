import { DEFAULT_WORKER_SETTINGS } from '@yardmaster/protocol';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';
import { pythonRegexToJs } from './python-regex.js';

const newlineRe = pythonRegexToJs(DEFAULT_WORKER_SETTINGS.newline_re);
const splitter = (max = 4096): LineSplitter => new LineSplitter(max, newlineRe);

describe('LineSplitter', () => {
  it('returns whole lines with offsets and times, keeping the partial line', () => {
    const lines = splitter();
    expect(lines.append('one\ntw', 1)).toEqual(['one\n', [3], [1]]);
    expect(lines.append('o\nthree\n', 2)).toEqual(['two\nthree\n', [3, 9], [1, 2]]);
    expect(lines.append('', 3)).toBeNull();
  });

  it('leaves the lists empty when the master asked for no line lists', () => {
    const lines = new LineSplitter(6, newlineRe, { lineLists: false });
    expect(lines.append('one\ntw', 1)).toEqual(['one\n', [], []]);
    // the general path (a line too long, cut) and a surrogate pair
    expect(lines.append('o\nlonger line\n😀\n', 2)).toEqual(['two\nlonge\nr lin\ne\n😀\n', [], []]);
    expect(lines.append('last', 3)).toBeNull();
    expect(lines.flush()).toEqual(['last\n', [], []]);
  });

  it('stamps a partial line with the time its first character arrived', () => {
    const lines = splitter();
    expect(lines.append('a', 1)).toBeNull();
    expect(lines.append('b', 2)).toBeNull();
    expect(lines.append('c\nd', 3)).toEqual(['abc\n', [3], [1]]);
    expect(lines.flush()).toEqual(['d\n', [1], [3]]);
    expect(lines.flush()).toBeNull();
  });

  it('turns CRLF, lone CRs, cursor moves and backspaces into newlines', () => {
    const lines = splitter();
    expect(lines.append('a\r\nb\rc\x1b[2Jd\x1b[10;20He\x08\x08f\x1b[ug\n', 1)?.[0]).toBe(
      'a\nb\nc\nd\ne\nf\ng\n',
    );
  });

  it('replaces a cursor sequence in text without CR or backspace (no regexp skipped)', () => {
    expect(splitter().append('a\x1b[2Jb\x1b[1;1fc\n', 1)).toEqual([
      'a\nb\nc\n',
      [1, 3, 5],
      [1, 1, 1],
    ]);
    // An unknown newline_re always runs.
    expect(new LineSplitter(4096, /x/).append('axb\n', 1)?.[0]).toBe('a\nb\n');
  });

  it('keeps a CR at the end of a chunk until the next one decides', () => {
    const lines = splitter();
    expect(lines.append('progress 1\r', 1)).toBeNull();
    expect(lines.append('\n', 2)).toEqual(['progress 1\n', [10], [1]]);
    expect(lines.append('x\r', 3)).toBeNull();
    expect(lines.append('y\n', 4)).toEqual(['x\ny\n', [1, 3], [3, 4]]);
  });

  it('treats CR CR like Python: both become newlines', () => {
    expect(splitter().append('a\r\rb\n', 1)?.[0]).toBe('a\n\nb\n');
  });

  it('cuts long lines into pieces of max_line_length - 1 characters plus a newline', () => {
    const lines = splitter(5);
    expect(lines.append('abcdefghij\nxy\n', 1)).toEqual([
      'abcd\nefgh\nij\nxy\n',
      [4, 9, 12, 15],
      [1, 1, 1, 1],
    ]);
    expect(lines.append('0123456789', 2)).toEqual(['0123\n4567\n', [4, 9], [2, 2]]);
    expect(lines.flush()).toEqual(['89\n', [2], [2]]);
  });

  it('counts offsets in code points and never splits a surrogate pair', () => {
    const lines = splitter(4);
    const chunk = lines.append('😀😀😀😀\n', 1);
    expect(chunk?.[0].split('\n').every((line) => !/^[\uDC00-\uDFFF]/.test(line))).toBe(true);
    expect(chunk?.[0].replace(/\n/g, '')).toBe('😀😀😀😀');
    const text = chunk?.[0] ?? '';
    const points = Array.from(text);
    for (const offset of chunk?.[1] ?? []) expect(points[offset]).toBe('\n');
  });

  it('gives the same lines, offsets and times however the text is cut into appends', () => {
    // Lines around max_line_length, so appends take both the fast and the general path.
    const max = 8;
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const text = Array.from({ length: 400 }, () => 'x'.repeat(random(12)) + '\n').join('');
    const reference = splitter(max).append(text, 1);
    for (let round = 0; round < 20; round++) {
      const lines = splitter(max);
      const chunks: NonNullable<ReturnType<LineSplitter['append']>>[] = [];
      for (let at = 0; at < text.length;) {
        const size = 1 + random(30);
        const chunk = lines.append(text.slice(at, at + size), 1);
        if (chunk) chunks.push(chunk);
        at += size;
      }
      const flushed = lines.flush();
      if (flushed) chunks.push(flushed);
      const joined = chunks.map((c) => c[0]).join('');
      expect(joined).toBe(reference?.[0]);
      let base = 0;
      const offsets: number[] = [];
      for (const [chunkText, chunkOffsets, times] of chunks) {
        expect(times).toHaveLength(chunkOffsets.length);
        for (const offset of chunkOffsets) expect(chunkText[offset]).toBe('\n');
        offsets.push(...chunkOffsets.map((offset) => offset + base));
        base += chunkText.length;
      }
      expect(offsets).toEqual(reference?.[1]);
    }
  });

  it('rejects an unusable max_line_length', () => {
    expect(() => splitter(1)).toThrow(RangeError);
  });
});
