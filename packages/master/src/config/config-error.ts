import { YardmasterError } from '../errors.js';

/** One thing wrong in a config: where (`builders[0].workerNames[1]`) and what. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export const CONFIG_ERROR_CODES = {
  /** The file does not exist or is not a config file. */
  notFound: 'config_not_found',
  /** The file could not be compiled or threw while it ran. */
  loadFailed: 'config_load_failed',
  /** The file ran, but what it exported is not a valid config (see `problems`). */
  invalid: 'config_invalid',
} as const;

export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[keyof typeof CONFIG_ERROR_CODES];

/** A config that cannot be used; `problems` lists every problem found (for `config_invalid`). */
export class ConfigError extends YardmasterError {
  declare readonly code: ConfigErrorCode;
  readonly problems: readonly ConfigProblem[];

  constructor(
    code: ConfigErrorCode,
    message: string,
    options?: { problems?: readonly ConfigProblem[]; cause?: unknown },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options?.problems ?? [];
  }
}
