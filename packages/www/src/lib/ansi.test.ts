import { describe, expect, it } from 'vitest';
import { DEFAULT_STYLE, applySgr, parseAnsi, presentStyle, stripAnsi, xterm256 } from './ansi.js';

const ESC = '\x1b';

function texts(line: string): string[] {
  return parseAnsi(line).segments.map((s) => s.text);
}

describe('parseAnsi', () => {
  it('returns plain text as one unstyled segment', () => {
    expect(parseAnsi('hello world').segments).toEqual([{ text: 'hello world', style: null }]);
    expect(parseAnsi('').segments).toEqual([]);
  });

  it('splits on SGR colours and resets', () => {
    const { segments } = parseAnsi(`ok ${ESC}[32mPASS${ESC}[0m done`);
    expect(segments.map((s) => s.text)).toEqual(['ok ', 'PASS', ' done']);
    expect(segments[0]?.style).toBeNull();
    expect(segments[1]?.style?.fg).toBe(2);
    expect(segments[2]?.style).toBeNull();
  });

  it('treats an empty SGR as a reset and combines attributes', () => {
    const { segments } = parseAnsi(`${ESC}[1;31mbold red${ESC}[mplain`);
    expect(segments[0]?.style).toMatchObject({ fg: 1, bold: true });
    expect(segments[1]).toEqual({ text: 'plain', style: null });
  });

  it('knows bright, background, 256-colour and 24-bit colours', () => {
    expect(applySgr(DEFAULT_STYLE, '91').fg).toBe(9);
    expect(applySgr(DEFAULT_STYLE, '104').bg).toBe(12);
    expect(applySgr(DEFAULT_STYLE, '38;5;208').fg).toBe(208);
    expect(applySgr(DEFAULT_STYLE, '48;2;10;20;300').bg).toBe('rgb(10, 20, 255)');
    expect(applySgr(DEFAULT_STYLE, '38:2::1:2:3').fg).toBe('rgb(1, 2, 3)'); // colon form, colour space
    expect(applySgr(DEFAULT_STYLE, '38:5:42;4')).toMatchObject({ fg: 42, underline: true });
    expect(applySgr(DEFAULT_STYLE, '4:3').underline).toBe(true);
    expect(applySgr(applySgr(DEFAULT_STYLE, '31;44'), '39;49')).toEqual(DEFAULT_STYLE);
    expect(applySgr(applySgr(DEFAULT_STYLE, '1;2;3;4;7;9'), '22;23;24;27;29')).toEqual(
      DEFAULT_STYLE,
    );
  });

  it('continues after an extended colour with the next code', () => {
    expect(applySgr(DEFAULT_STYLE, '38;5;100;1')).toMatchObject({ fg: 100, bold: true });
    expect(applySgr(DEFAULT_STYLE, '38;2;1;2;3;4')).toMatchObject({
      fg: 'rgb(1, 2, 3)',
      underline: true,
    });
  });

  it('drops other escape sequences and control characters', () => {
    expect(texts(`a${ESC}[2Kb${ESC}[1Ac${ESC}[?25l`)).toEqual(['abc']);
    expect(texts(`${ESC}]0;title\x07x${ESC}]8;;http://x${ESC}\\link`)).toEqual(['xlink']);
    expect(texts(`tab\there\x07bell\x00`)).toEqual(['tab\therebell']);
    expect(texts(`lone escape at the end${ESC}`)).toEqual(['lone escape at the end']);
  });

  it('shows what a carriage return leaves on the line, like a terminal', () => {
    expect(texts('10%\r50%\r100%')).toEqual(['100%']);
    expect(texts('windows line\r')).toEqual(['windows line']);
    const { segments } = parseAnsi(`${ESC}[33mprogress 1\rprogress 2`);
    expect(segments).toEqual([{ text: 'progress 2', style: expect.objectContaining({ fg: 3 }) }]);
  });

  it('starts from and returns a style, for callers that carry it across lines', () => {
    const first = parseAnsi(`${ESC}[35mopen`);
    const second = parseAnsi('still purple', first.style);
    expect(second.segments[0]?.style?.fg).toBe(5);
  });

  it('strips to plain text', () => {
    expect(stripAnsi(`${ESC}[1m${ESC}[31merror:${ESC}[0m file not found`)).toBe(
      'error: file not found',
    );
  });
});

describe('presentStyle', () => {
  it('uses palette classes for 16 colours and inline colours beyond', () => {
    expect(presentStyle(applySgr(DEFAULT_STYLE, '1;31;42'))).toEqual({
      className: 'ansi-fg-1 ansi-bg-2 ansi-bold',
    });
    expect(presentStyle(applySgr(DEFAULT_STYLE, '38;5;196'))).toEqual({
      className: '',
      color: 'rgb(255, 0, 0)',
    });
  });

  it('swaps colours for inverse video', () => {
    expect(presentStyle(applySgr(DEFAULT_STYLE, '7'))).toEqual({
      className: 'ansi-fg-inverse ansi-bg-inverse',
    });
    expect(presentStyle(applySgr(DEFAULT_STYLE, '7;31')).className).toContain('ansi-bg-1');
  });
});

describe('xterm256', () => {
  it('maps the colour cube and the grey ramp', () => {
    expect(xterm256(16)).toBe('rgb(0, 0, 0)');
    expect(xterm256(231)).toBe('rgb(255, 255, 255)');
    expect(xterm256(232)).toBe('rgb(8, 8, 8)');
    expect(xterm256(255)).toBe('rgb(238, 238, 238)');
  });
});
