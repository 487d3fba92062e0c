/**
 * Build and step results with Buildbot's numbers, names and colours. The colour itself
 * lives in styles.css (`.result-<name>`); this module only decides which name applies.
 */
export const Results = {
  SUCCESS: 0,
  WARNINGS: 1,
  FAILURE: 2,
  SKIPPED: 3,
  EXCEPTION: 4,
  RETRY: 5,
  CANCELLED: 6,
} as const;

export type ResultCode = (typeof Results)[keyof typeof Results];

/** What a build, step or request looks like right now: a result, or still going. */
export type Status =
  | 'success'
  | 'warnings'
  | 'failure'
  | 'skipped'
  | 'exception'
  | 'retry'
  | 'cancelled'
  | 'running'
  | 'pending'
  | 'unknown';

const NAMES: readonly Status[] = [
  'success',
  'warnings',
  'failure',
  'skipped',
  'exception',
  'retry',
  'cancelled',
];

/** Every finished result, in Buildbot's order (for counts and legends). */
export const RESULT_CODES: readonly ResultCode[] = [0, 1, 2, 3, 4, 5, 6];

export function resultStatus(results: number | null | undefined): Status {
  if (results === null || results === undefined) return 'unknown';
  return NAMES[results] ?? 'unknown';
}

/** The status of something that may still run: a build, a step or a build request. */
export function statusOf(item: {
  complete: boolean;
  results: number | null;
  started_at?: number | null;
}): Status {
  if (item.complete) return resultStatus(item.results);
  if (item.started_at === null) return 'pending';
  return 'running';
}

/** Buildbot's upper-case label (SUCCESS, FAILURE …) or RUNNING / PENDING. */
export function statusLabel(status: Status): string {
  return status === 'unknown' ? '?' : status.toUpperCase();
}

/** The CSS class that colours an element by status. */
export function statusClass(status: Status): string {
  return `status-${status}`;
}

/** Whether a finished result is a problem someone should look at. */
export function isBad(status: Status): boolean {
  return status === 'failure' || status === 'exception';
}
