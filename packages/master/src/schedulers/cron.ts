/**
 * Five-field cron schedules for the `nightly` scheduler (what Buildbot's `croniter`
 * reads): `minute hour day-of-month month day-of-week`, each `*`, a number, a range
 * `a-b`, a step `*\/n` or `a-b/n`, or a comma list of these; months and weekdays also by
 * name (`jan`, `mon`); day-of-week 0 and 7 are Sunday. When both day fields are
 * restricted, a day matching either counts (cron's rule). Pure: no I/O, no clock.
 */

export interface CronSchedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday. */
  daysOfWeek: ReadonlySet<number>;
  /** The day-of-month field was `*`. */
  anyDayOfMonth: boolean;
  /** The day-of-week field was `*`. */
  anyDayOfWeek: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: string[];
  /** Where the first name counts from (1 for months). */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day of month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { label: 'day of week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

export class CronError extends Error {}

function parseValue(text: string, spec: FieldSpec): number {
  const lower = text.toLowerCase();
  const named = spec.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + (spec.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new CronError(`${spec.label}: "${text}" is not a number`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new CronError(`${spec.label}: ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(text: string, spec: FieldSpec): { values: Set<number>; any: boolean } {
  const values = new Set<number>();
  let any = false;
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(`${spec.label}: step "${stepText}" must be a positive number`);
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.label === 'day of week' ? 6 : spec.max;
      if (stepText === undefined) any = true;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = parseValue(a, spec);
      to = parseValue(b, spec);
      if (to < from) throw new CronError(`${spec.label}: range "${range}" runs backwards`);
    } else {
      from = parseValue(range, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  if (spec.label === 'day of week' && values.delete(7)) values.add(0);
  return { values, any };
}

/** Parses a five-field cron expression; throws CronError naming the bad field. */
export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new CronError(
      `expected five fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  const parsed = fields.map((field, index) => parseField(field, FIELDS[index] as FieldSpec));
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parsed as [
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
    (typeof parsed)[0],
  ];
  return {
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: daysOfMonth.values,
    months: months.values,
    daysOfWeek: daysOfWeek.values,
    anyDayOfMonth: daysOfMonth.any,
    anyDayOfWeek: daysOfWeek.any,
  };
}

/** Date accessors in local time or UTC. */
function calendar(utc: boolean) {
  return utc
    ? {
        month: (d: Date) => d.getUTCMonth() + 1,
        day: (d: Date) => d.getUTCDate(),
        weekday: (d: Date) => d.getUTCDay(),
        hour: (d: Date) => d.getUTCHours(),
        minute: (d: Date) => d.getUTCMinutes(),
        nextMonth: (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
        nextDay: (d: Date) =>
          new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)),
        nextHour: (d: Date) =>
          new Date(
            Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1),
          ),
      }
    : {
        month: (d: Date) => d.getMonth() + 1,
        day: (d: Date) => d.getDate(),
        weekday: (d: Date) => d.getDay(),
        hour: (d: Date) => d.getHours(),
        minute: (d: Date) => d.getMinutes(),
        nextMonth: (d: Date) => new Date(d.getFullYear(), d.getMonth() + 1, 1),
        nextDay: (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1),
        nextHour: (d: Date) =>
          new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() + 1),
      };
}

/**
 * The first time (epoch ms, on a whole minute) strictly after `after` that the schedule
 * matches, in local time or UTC; null when none comes within ten years (`0 0 31 2 *`).
 */
export function nextCronTime(
  schedule: CronSchedule,
  after: number,
  options: { utc: boolean },
): number | null {
  const cal = calendar(options.utc);
  let date = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const limit = after + 10 * 366 * 86_400_000;
  const dayMatches = (d: Date): boolean => {
    const dom = schedule.daysOfMonth.has(cal.day(d));
    const dow = schedule.daysOfWeek.has(cal.weekday(d));
    if (schedule.anyDayOfMonth && schedule.anyDayOfWeek) return true;
    if (schedule.anyDayOfMonth) return dow;
    if (schedule.anyDayOfWeek) return dom;
    return dom || dow;
  };
  while (date.getTime() <= limit) {
    if (!schedule.months.has(cal.month(date))) date = cal.nextMonth(date);
    else if (!dayMatches(date)) date = cal.nextDay(date);
    else if (!schedule.hours.has(cal.hour(date))) date = cal.nextHour(date);
    else if (!schedule.minutes.has(cal.minute(date))) date = new Date(date.getTime() + 60_000);
    else return date.getTime();
  }
  return null;
}

/**
 * Buildbot's Nightly fields (`minute`, `hour`, `dayOfMonth`, `month`, `dayOfWeek` with
 * 0 = Monday) as a cron expression (0 = Sunday).
 */
export function cronFromFields(fields: {
  minute?: string | number | number[];
  hour?: string | number | number[];
  dayOfMonth?: string | number | number[];
  month?: string | number | number[];
  dayOfWeek?: string | number | number[];
}): string {
  const text = (value: string | number | number[] | undefined, fallback: string): string => {
    if (value === undefined) return fallback;
    return Array.isArray(value) ? value.join(',') : String(value);
  };
  const shiftDay = (item: string): string =>
    /^\d+$/.test(item) ? String((Number(item) + 1) % 7) : item;
  const weekday = (value: string | number | number[] | undefined): string => {
    if (value === undefined) return '*';
    const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
    return items
      .map((item) => {
        const [range = '', step] = item.split('/');
        const [from = '', to] = range.split('-');
        if (to !== undefined && /^\d+$/.test(from) && /^\d+$/.test(to)) {
          // 0-4 (Monday to Friday) → 1-5; a range that wraps Sunday is split.
          const a = Number(from) + 1;
          const b = Number(to) + 1;
          const shifted = b <= 6 ? `${a}-${b}` : a <= 6 ? `${a}-6,0` : '0';
          return step === undefined ? shifted : `${shifted}/${step}`;
        }
        return step === undefined ? shiftDay(range) : `${shiftDay(range)}/${step}`;
      })
      .join(',');
  };
  return [
    text(fields.minute, '0'),
    text(fields.hour, '*'),
    text(fields.dayOfMonth, '*'),
    text(fields.month, '*'),
    weekday(fields.dayOfWeek),
  ].join(' ');
}
