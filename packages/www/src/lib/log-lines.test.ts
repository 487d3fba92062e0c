import { describe, expect, it } from 'vitest';
import { firstVisibleLine, pagesFor, splitLogContent } from './log-lines.js';

describe('splitLogContent', () => {
  it('reads the stream prefix of stdio logs', () => {
    expect(splitLogContent('hcmd\nohello\neoops\n', 's')).toEqual([
      { stream: 'h', text: 'cmd' },
      { stream: 'o', text: 'hello' },
      { stream: 'e', text: 'oops' },
    ]);
  });

  it('keeps empty lines and text logs as they are', () => {
    expect(splitLogContent('o\no\n', 's')).toEqual([
      { stream: 'o', text: '' },
      { stream: 'o', text: '' },
    ]);
    expect(splitLogContent('one\ntwo\n', 't')).toEqual([
      { stream: 'o', text: 'one' },
      { stream: 'o', text: 'two' },
    ]);
    expect(splitLogContent('', 's')).toEqual([]);
    expect(splitLogContent('ono newline', 's')).toEqual([{ stream: 'o', text: 'no newline' }]);
  });
});

describe('pagesFor', () => {
  it('lists the pages covering a range, clamped to the log', () => {
    expect(pagesFor(0, 10, 5000, 1000)).toEqual([0]);
    expect(pagesFor(990, 1010, 5000, 1000)).toEqual([0, 1]);
    expect(pagesFor(4900, 6000, 5000, 1000)).toEqual([4]);
    expect(pagesFor(0, 10, 0, 1000)).toEqual([]);
    expect(pagesFor(10, 5, 100, 1000)).toEqual([]);
  });
});

describe('firstVisibleLine', () => {
  it('is pixel for pixel while the log fits', () => {
    expect(firstVisibleLine(0, 400, 1000, 20, 1e7)).toBe(0);
    expect(firstVisibleLine(2010, 400, 1000, 20, 1e7)).toBe(100);
  });

  it('is proportional for logs taller than a browser can draw', () => {
    // 10 million lines of 20 px = 200 million px, drawn in 10 million px.
    expect(firstVisibleLine(0, 400, 1e7, 20, 1e7)).toBe(0);
    expect(firstVisibleLine(1e7 - 400, 400, 1e7, 20, 1e7)).toBe(1e7 - 20);
    expect(firstVisibleLine((1e7 - 400) / 2, 400, 1e7, 20, 1e7)).toBe(Math.round((1e7 - 20) / 2));
  });
});
