/**
 * Log contents as the REST API returns them (`/logs/<id>/contents`: whole lines, each ending
 * in a newline) turned into lines to draw. Stdio logs (type `s`) start every line with its
 * stream: `o` stdout, `e` stderr, `h` header (Buildbot's convention); text and HTML logs
 * have no prefix.
 */
export type LogStream = 'o' | 'e' | 'h';

export interface LogLine {
  stream: LogStream;
  text: string;
}

export function splitLogContent(content: string, logType: string): LogLine[] {
  if (content === '') return [];
  const raw = content.endsWith('\n') ? content.slice(0, -1) : content;
  const lines = raw.split('\n');
  if (logType !== 's') return lines.map((text) => ({ stream: 'o', text }));
  return lines.map((line) => {
    const prefix = line.charAt(0);
    if (prefix === 'e' || prefix === 'h' || prefix === 'o')
      return { stream: prefix, text: line.slice(1) };
    return { stream: 'o', text: line };
  });
}

/**
 * Which pages of `pageSize` lines cover lines [first, last] (inclusive), clamped to the log.
 */
export function pagesFor(
  first: number,
  last: number,
  numLines: number,
  pageSize: number,
): number[] {
  if (numLines <= 0 || last < first) return [];
  const from = Math.max(0, Math.floor(first / pageSize));
  const to = Math.floor(Math.min(last, numLines - 1) / pageSize);
  const pages: number[] = [];
  for (let p = from; p <= to; p++) pages.push(p);
  return pages;
}

/**
 * Maps a scroll position to the first visible line when the log is taller than the tallest
 * element a browser can draw (`maxPx`): the scroll bar then stands for the log in proportion
 * rather than pixel for pixel.
 */
export function firstVisibleLine(
  scrollTop: number,
  viewportPx: number,
  numLines: number,
  lineHeight: number,
  maxPx: number,
): number {
  const visible = Math.ceil(viewportPx / lineHeight);
  const total = numLines * lineHeight;
  if (total <= maxPx) return Math.max(0, Math.floor(scrollTop / lineHeight));
  const scrollable = Math.max(1, maxPx - viewportPx);
  const fraction = Math.min(1, Math.max(0, scrollTop / scrollable));
  return Math.round(fraction * Math.max(0, numLines - visible));
}
