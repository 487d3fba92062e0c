/** Reconnect delays: exponential from `initialMs`, doubling up to `maxMs`, with ±`jitter`. */

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Fraction of the delay added or removed at random (0.2 → ±20 %). */
  jitter?: number;
  random?: () => number;
}

export const DEFAULT_INITIAL_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;

/**
 * Delay before reconnect attempt number `attempt` (0 for the first retry after a drop):
 * min(maxMs, initialMs · 2^attempt), jittered, never above maxMs and never below 0.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS;
  const maxMs = Math.max(options.maxMs ?? DEFAULT_MAX_BACKOFF_MS, 0);
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const jittered = base * (1 + jitter * (2 * random() - 1));
  return Math.round(Math.min(maxMs, Math.max(0, jittered)));
}
