/** The master's logger: pino, JSON lines on stderr, or quiet in tests. */
import { destination, pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.YARDMASTER_LOG_LEVEL ?? 'info',
      name: options.name ?? 'yardmaster',
    },
    destination(2),
  );
}
