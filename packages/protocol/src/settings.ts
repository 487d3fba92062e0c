/** Worker settings the master pushes with `set_worker_settings` (Buildbot's names and defaults). */

export interface WorkerSettings {
  /**
   * Python regular expression (as a string) whose matches the worker turns into '\n' before
   * splitting output into lines: CRLF, a lone CR that is not last in the buffer, cursor
   * movement sequences and backspace runs.
   */
  newline_re: string;
  /** Longer lines are cut into pieces of at most this many characters (including the '\n'). */
  max_line_length: number;
  /** Seconds the worker may hold output before sending an `update` (Buildbot: 5). */
  buffer_timeout: number;
  /** Approximate bytes of output the worker collects before sending an `update`. */
  buffer_size: number;
  /**
   * Yardmaster's extension, sent only to Yardmaster's worker: `false` asks for log chunks
   * without their newline-offset and timestamp lists (`[text, [], []]`), which a master that
   * reads only the text (Buildbot's and ours) never uses. Absent: the lists are sent, as
   * buildbot-worker always does (decision 0021).
   */
  send_line_lists?: boolean;
}

/** Buildbot 3.7's values, sent by its master on every attach and used by its worker before. */
export const DEFAULT_WORKER_SETTINGS: Readonly<WorkerSettings> = Object.freeze({
  newline_re: '(\\r\\n|\\r(?=.)|\\033\\[u|\\033\\[[0-9]+;[0-9]+[Hf]|\\033\\[2J|\\x08+)',
  max_line_length: 4096,
  buffer_timeout: 5,
  buffer_size: 64 * 1024,
});

/** The keys `set_worker_settings` must carry (buildbot-worker rejects the message otherwise). */
export const WORKER_SETTINGS_KEYS = [
  'buffer_size',
  'buffer_timeout',
  'newline_re',
  'max_line_length',
] as const satisfies readonly (keyof WorkerSettings)[];
