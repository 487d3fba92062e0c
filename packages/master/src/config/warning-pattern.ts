/**
 * `warningPattern` of shell steps: a regular expression matched from the start of each
 * output line, as Python's `re.match` in Buildbot's `WarningCountingShellCommand`. A
 * leading `(?i)` (Python's inline flag, in Buildbot's default) becomes the `i` flag.
 * Pure: used by the config check and by the step.
 */

/** Buildbot's default, `WarningCountingShellCommand.warningPattern`. */
export const DEFAULT_WARNING_PATTERN = '(?i).*warning[: ].*';

/** The pattern as a RegExp anchored at the start of the line; throws on a bad pattern. */
export function compileWarningPattern(pattern: string): RegExp {
  const caseless = pattern.startsWith('(?i)');
  const body = caseless ? pattern.slice(4) : pattern;
  return new RegExp(`^(?:${body})`, caseless ? 'iu' : 'u');
}

/** `undefined` when the pattern compiles, else why not. */
export function warningPatternProblem(pattern: string): string | undefined {
  try {
    compileWarningPattern(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
