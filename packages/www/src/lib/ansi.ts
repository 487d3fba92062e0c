/**
 * A small ANSI escape parser for log lines: SGR sequences (`ESC [ … m`) become styled
 * segments; every other escape sequence (cursor moves, erase line, OSC titles and links) is
 * dropped; a carriage return starts the visible line again, as a terminal would show a
 * progress bar. Colours: 0–15 are palette classes (`ansi-fg-1`, themed in CSS), 16–255 the
 * xterm 256-colour cube and grey ramp, and 24-bit colours `rgb(r, g, b)`.
 *
 * Each log line is parsed on its own, starting from the default style (the log view renders
 * lines out of order, so it cannot carry a style from line to line): tools that colour
 * output reset at the end of each line anyway.
 */

export interface AnsiStyle {
  /** Palette index 0–255, a CSS colour for 24-bit colours, or null for the default. */
  fg: number | string | null;
  bg: number | string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export interface AnsiSegment {
  text: string;
  /** Null when the segment has the default style. */
  style: AnsiStyle | null;
}

export const DEFAULT_STYLE: Readonly<AnsiStyle> = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
});

function isDefault(s: AnsiStyle): boolean {
  return (
    s.fg === null &&
    s.bg === null &&
    !s.bold &&
    !s.dim &&
    !s.italic &&
    !s.underline &&
    !s.inverse &&
    !s.strike
  );
}

// ESC followed by: CSI (params, final byte), OSC (up to BEL or ST), or one character.
const ESCAPE =
  // eslint-disable-next-line no-control-regex
  /\x1b(?:\[([0-9;:?<=>]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_]|$)|\r/g;
// Other C0 controls except tab are invisible noise in a log view.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

function extendedColour(
  codes: number[],
  i: number,
): { colour: number | string | null; used: number } {
  const mode = codes[i + 1];
  if (mode === 5) {
    const n = codes[i + 2];
    return { colour: n !== undefined && n >= 0 && n <= 255 ? n : null, used: 2 };
  }
  if (mode === 2) {
    const [r, g, b] = [codes[i + 2], codes[i + 3], codes[i + 4]];
    if (r === undefined || g === undefined || b === undefined) return { colour: null, used: 4 };
    const c = (v: number) => Math.min(255, Math.max(0, v));
    return { colour: `rgb(${c(r)}, ${c(g)}, ${c(b)})`, used: 4 };
  }
  return { colour: null, used: 0 };
}

/** Applies one SGR parameter list (`1;31`) to a style, returning the new style. */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const s: AnsiStyle = { ...style };
  const groups = params === '' ? ['0'] : params.split(';');
  const codes = groups.map((g) => (g === '' ? 0 : Number(g.split(':')[0])));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? 0;
    const group = groups[i] ?? '';
    if (group.includes(':')) {
      // ITU T.416 form: 38:5:n, 38:2:r:g:b or 38:2:<colour space>:r:g:b in one parameter.
      const sub = group.split(':').map((p) => (p === '' ? 0 : Number(p)));
      if (code === 38 || code === 48) {
        const rgb = sub.length >= 6 ? [0, 2, ...sub.slice(3, 6)] : sub;
        const { colour } = extendedColour(sub[1] === 2 ? rgb : sub, 0);
        if (code === 38) s.fg = colour;
        else s.bg = colour;
        continue;
      }
    }
    if (code === 0) Object.assign(s, DEFAULT_STYLE);
    else if (code === 1) s.bold = true;
    else if (code === 2) s.dim = true;
    else if (code === 3) s.italic = true;
    else if (code === 4 || code === 21) s.underline = true;
    else if (code === 7) s.inverse = true;
    else if (code === 9) s.strike = true;
    else if (code === 22) s.bold = s.dim = false;
    else if (code === 23) s.italic = false;
    else if (code === 24) s.underline = false;
    else if (code === 27) s.inverse = false;
    else if (code === 29) s.strike = false;
    else if (code >= 30 && code <= 37) s.fg = code - 30;
    else if (code === 39) s.fg = null;
    else if (code >= 40 && code <= 47) s.bg = code - 40;
    else if (code === 49) s.bg = null;
    else if (code >= 90 && code <= 97) s.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) s.bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      const { colour, used } = extendedColour(codes, i);
      if (code === 38) s.fg = colour;
      else s.bg = colour;
      i += used;
    }
  }
  return s;
}

/**
 * Splits `text` (one line, without its newline) into styled segments. Returns the style in
 * force at the end too, for callers that do want to carry it on.
 */
export function parseAnsi(
  text: string,
  initial: AnsiStyle = DEFAULT_STYLE,
): { segments: AnsiSegment[]; style: AnsiStyle } {
  let style: AnsiStyle = initial;
  if (!text.includes('\x1b') && !text.includes('\r')) {
    const clean = text.replace(CONTROL, '');
    return {
      segments: clean === '' ? [] : [{ text: clean, style: isDefault(style) ? null : style }],
      style,
    };
  }
  let segments: AnsiSegment[] = [];
  let last = 0;
  const push = (chunk: string) => {
    const clean = chunk.replace(CONTROL, '');
    if (clean === '') return;
    const prev = segments[segments.length - 1];
    const segStyle = isDefault(style) ? null : style;
    if (prev && prev.style === segStyle) prev.text += clean;
    else segments.push({ text: clean, style: segStyle });
  };
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m !== null; m = ESCAPE.exec(text)) {
    push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === '\r') {
      // A carriage return rewinds the line; a trailing one (CRLF output) changes nothing.
      if (last < text.length) segments = [];
    } else if (m[2] === 'm' && m[1] !== undefined && !/[?<=>]/.test(m[1])) {
      style = applySgr(style, m[1]);
    }
  }
  push(text.slice(last));
  return { segments, style };
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The CSS colour of xterm palette entry 16–255 (0–15 are themed classes). */
export function xterm256(n: number): string {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const r = CUBE[Math.floor(i / 36) % 6] ?? 0;
  const g = CUBE[Math.floor(i / 6) % 6] ?? 0;
  const b = CUBE[i % 6] ?? 0;
  return `rgb(${r}, ${g}, ${b})`;
}

export interface SegmentPresentation {
  className: string;
  color?: string;
  backgroundColor?: string;
}

/** How a styled segment is drawn: CSS classes for the palette and flags, inline colours otherwise. */
export function presentStyle(style: AnsiStyle): SegmentPresentation {
  const classes: string[] = [];
  const out: SegmentPresentation = { className: '' };
  const fg = style.inverse ? style.bg : style.fg;
  const bg = style.inverse ? style.fg : style.bg;
  if (typeof fg === 'number' && fg < 16) classes.push(`ansi-fg-${fg}`);
  else if (typeof fg === 'number') out.color = xterm256(fg);
  else if (typeof fg === 'string') out.color = fg;
  else if (style.inverse) classes.push('ansi-fg-inverse');
  if (typeof bg === 'number' && bg < 16) classes.push(`ansi-bg-${bg}`);
  else if (typeof bg === 'number') out.backgroundColor = xterm256(bg);
  else if (typeof bg === 'string') out.backgroundColor = bg;
  else if (style.inverse) classes.push('ansi-bg-inverse');
  if (style.bold) classes.push('ansi-bold');
  if (style.dim) classes.push('ansi-dim');
  if (style.italic) classes.push('ansi-italic');
  if (style.underline) classes.push('ansi-underline');
  if (style.strike) classes.push('ansi-strike');
  out.className = classes.join(' ');
  return out;
}

/** The text of a line without any escape sequence (for search and copy). */
export function stripAnsi(text: string): string {
  return parseAnsi(text)
    .segments.map((s) => s.text)
    .join('');
}
