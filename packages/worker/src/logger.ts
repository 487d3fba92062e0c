/** A tiny logger: one line per event on stderr, `<ISO timestamp> <LEVEL> <message>`. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface WorkerLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface StderrLoggerOptions {
  /** Lowest level written (default 'info'). */
  level?: LogLevel;
  /** Where lines go (default process.stderr). */
  write?: (line: string) => void;
  /** Clock for timestamps (default Date.now). */
  now?: () => number;
}

export function createStderrLogger(options: StderrLoggerOptions = {}): WorkerLogger {
  const minimum = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, message: string): void => {
    if (LEVEL_ORDER[level] < minimum) return;
    // One event, one line: fold embedded newlines so log collectors keep it together.
    const text = message.replace(/\r?\n/g, ' \\n ');
    write(`${new Date(now()).toISOString()} ${level.toUpperCase().padEnd(5)} ${text}\n`);
  };
  return {
    debug: (message) => log('debug', message),
    info: (message) => log('info', message),
    warn: (message) => log('warn', message),
    error: (message) => log('error', message),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: WorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
