/** Build and step results, with Buildbot's numbers. */
export const Results = {
  SUCCESS: 0,
  WARNINGS: 1,
  FAILURE: 2,
  SKIPPED: 3,
  EXCEPTION: 4,
  RETRY: 5,
  CANCELLED: 6,
} as const;

export type Result = (typeof Results)[keyof typeof Results];

const NAMES = ['success', 'warnings', 'failure', 'skipped', 'exception', 'retry', 'cancelled'];

export function resultName(result: number | null): string {
  if (result === null) return 'not finished';
  return NAMES[result] ?? `result ${result}`;
}

/**
 * Buildbot's `worst_status`: the more severe of two results. SKIPPED is weaker than
 * SUCCESS; CANCELLED is the most severe (it ends everything).
 */
const SEVERITY: readonly number[] = [
  Results.SKIPPED,
  Results.SUCCESS,
  Results.WARNINGS,
  Results.FAILURE,
  Results.EXCEPTION,
  Results.RETRY,
  Results.CANCELLED,
];

export function worstResult(a: Result, b: Result): Result {
  return SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b;
}
