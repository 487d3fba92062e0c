import { describe, expect, it } from 'vitest';
import { CronError, cronFromFields, nextCronTime, parseCron } from './cron.js';

const utc = (text: string) => Date.parse(`${text}Z`);
const next = (cron: string, after: string) => {
  const at = nextCronTime(parseCron(cron), utc(after), { utc: true });
  return at === null ? null : new Date(at).toISOString().slice(0, 16);
};

describe('cron', () => {
  it('finds the next matching minute strictly after the given time', () => {
    expect(next('0 3 * * *', '2026-01-10T02:59:00')).toBe('2026-01-10T03:00');
    expect(next('0 3 * * *', '2026-01-10T03:00:00')).toBe('2026-01-11T03:00');
    expect(next('*/15 * * * *', '2026-01-10T03:07:30')).toBe('2026-01-10T03:15');
    expect(next('30 22 * * 1-5', '2026-01-09T23:00:00')).toBe('2026-01-12T22:30'); // Fri → Mon
    expect(next('0 0 1 */3 *', '2026-02-15T00:00:00')).toBe('2026-04-01T00:00');
    expect(next('0 12 * jan,jul sun', '2026-01-01T00:00:00')).toBe('2026-01-04T12:00');
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00')).toBe('2028-02-29T00:00');
    expect(next('0 0 31 2 *', '2026-01-01T00:00:00')).toBeNull();
  });

  it('matches either day field when both are restricted, as cron does', () => {
    // The 13th, or any Friday.
    expect(next('0 0 13 * 5', '2026-02-01T00:00:00')).toBe('2026-02-06T00:00');
    expect(next('0 0 13 * 5', '2026-02-10T00:00:00')).toBe('2026-02-13T00:00');
  });

  it('treats 7 as Sunday and reports bad fields', () => {
    expect(next('0 0 * * 7', '2026-01-01T00:00:00')).toBe('2026-01-04T00:00');
    expect(() => parseCron('0 3 * *')).toThrow(CronError);
    expect(() => parseCron('61 * * * *')).toThrow(/minute: 61 is outside 0-59/);
    expect(() => parseCron('0 * * * fun')).toThrow(/day of week/);
    expect(() => parseCron('5-1 * * * *')).toThrow(/backwards/);
  });

  it("converts Buildbot's Nightly fields (dayOfWeek 0 = Monday)", () => {
    expect(cronFromFields({ hour: 3 })).toBe('0 3 * * *');
    expect(cronFromFields({ minute: [0, 30], hour: '*/2', dayOfWeek: 0 })).toBe('0,30 */2 * * 1');
    expect(cronFromFields({ hour: 1, dayOfWeek: '0-4' })).toBe('0 1 * * 1-5');
    expect(cronFromFields({ hour: 1, dayOfWeek: [5, 6] })).toBe('0 1 * * 6,0');
    expect(cronFromFields({ hour: 1, dayOfWeek: 'sat' })).toBe('0 1 * * sat');
  });
});
