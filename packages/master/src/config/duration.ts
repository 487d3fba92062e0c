/**
 * Durations in config files: a number of seconds, or a string of one or more
 * `<number><unit>` parts with units ms, s, m, h, d ("500ms", "30s", "1h30m", "1.5h").
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

const WHOLE = /^(?:\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))+\s*$/;
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g;

/** Milliseconds for a duration, or `undefined` when `value` is not one (or is negative). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  }
  if (typeof value !== 'string' || !WHOLE.test(value)) return undefined;
  let total = 0;
  for (const match of value.matchAll(PART)) {
    const amount = Number(match[1]);
    const unit = match[2] as DurationUnit;
    total += amount * UNIT_MS[unit];
  }
  return Math.round(total);
}

/** The shortest readable form of a duration in milliseconds: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let text = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) text += `${rest}ms`;
  return text;
}
