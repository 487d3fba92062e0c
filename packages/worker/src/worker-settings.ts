/**
 * The worker settings in effect (buildbot-worker keeps them on its bot, across connections).
 * Starts with Buildbot's defaults; `set_worker_settings` replaces them all at once after
 * checking every value, so a bad message changes nothing. Running commands keep the
 * settings they started with.
 */
import {
  DEFAULT_WORKER_SETTINGS,
  WORKER_SETTINGS_KEYS,
  type WorkerSettings,
} from '@yardmaster/protocol';
import type { ActiveSettings } from './command-session.js';
import { pythonRegexToJs } from './python-regex.js';

export class WorkerSettingsState {
  #settings: WorkerSettings = { ...DEFAULT_WORKER_SETTINGS };
  #active: ActiveSettings = toActive(DEFAULT_WORKER_SETTINGS);

  get settings(): Readonly<WorkerSettings> {
    return this.#settings;
  }

  get active(): ActiveSettings {
    return this.#active;
  }

  /** Apply `set_worker_settings` args; throws (changing nothing) if any is missing or bad. */
  update(args: unknown): void {
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new Error('message did not contain obligatory "args" key');
    }
    const record = args as Record<string, unknown>;
    for (const key of WORKER_SETTINGS_KEYS) {
      if (!(key in record))
        throw new Error('message did not contain obligatory settings for worker');
    }
    const {
      newline_re: newlineRe,
      max_line_length: maxLineLength,
      buffer_timeout: bufferTimeout,
      buffer_size: bufferSize,
    } = record;
    if (typeof newlineRe !== 'string') throw new Error('newline_re must be a string');
    if (
      typeof maxLineLength !== 'number' ||
      !Number.isInteger(maxLineLength) ||
      maxLineLength < 2
    ) {
      throw new Error('max_line_length must be an integer ≥ 2');
    }
    if (typeof bufferTimeout !== 'number' || !(bufferTimeout >= 0)) {
      throw new Error('buffer_timeout must be a number of seconds ≥ 0');
    }
    if (typeof bufferSize !== 'number' || !(bufferSize > 0)) {
      throw new Error('buffer_size must be a positive number');
    }
    const lineLists = record.send_line_lists ?? true;
    if (typeof lineLists !== 'boolean') throw new Error('send_line_lists must be a boolean');
    const settings: WorkerSettings = {
      newline_re: newlineRe,
      max_line_length: maxLineLength,
      buffer_timeout: bufferTimeout,
      buffer_size: bufferSize,
      send_line_lists: lineLists,
    };
    let active: ActiveSettings;
    try {
      active = toActive(settings);
    } catch (error) {
      throw new Error(
        `newline_re ${JSON.stringify(newlineRe)} is not a usable regular expression: ${(error as Error).message}`,
      );
    }
    this.#settings = settings;
    this.#active = active;
  }
}

function toActive(settings: Readonly<WorkerSettings>): ActiveSettings {
  return {
    newlineRe: pythonRegexToJs(settings.newline_re),
    maxLineLength: settings.max_line_length,
    bufferSize: settings.buffer_size,
    bufferTimeoutMs: settings.buffer_timeout * 1000,
    lineLists: settings.send_line_lists ?? true,
  };
}
