/** Durations, ages and times as the UI shows them. Times are Buildbot's epoch seconds. */

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A duration in seconds: `0s`, `42s`, `3m 05s`, `2h 03m`, `3d 4h`. Negative counts as 0. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** How long ago `then` was, from `now` (both epoch seconds): `just now`, `5s ago`, `3m ago`. */
export function formatAgo(then: number | null | undefined, now: number): string {
  if (then === null || then === undefined) return '—';
  const s = Math.floor(now - then);
  if (s < 2) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.floor(h / 24)}d ago`;
}

/** The time between start and end (or now, while it runs), or null before it started. */
export function elapsed(
  startedAt: number | null | undefined,
  completeAt: number | null | undefined,
  now: number,
): number | null {
  if (startedAt === null || startedAt === undefined) return null;
  return Math.max(0, (completeAt ?? now) - startedAt);
}

/** An epoch-seconds time in local time: `2025-03-04 13:05:09`. */
export function formatTime(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined) return '—';
  const d = new Date(epochSeconds * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Bytes for people: `512 B`, `1.5 KB`, `20.3 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit] ?? 'GB'}`;
}

/** A property value as text: strings as they are, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}

/** `1 build`, `2 builds`. */
export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`;
}
