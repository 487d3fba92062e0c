import { inspect } from 'node:util';

// Captured at load time so a test that installs fake timers cannot stall waitFor.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realNow = performance.now.bind(performance);

export interface WaitForOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between two calls of the condition. Default 50 ms. */
  intervalMs?: number;
  /** What we were waiting for; starts the timeout error's message. */
  message?: string | (() => string);
}

/** Thrown by `waitFor` when the condition did not become truthy in time. */
export class WaitForTimeoutError extends Error {
  /** The last value the condition returned (undefined if it only threw). */
  readonly lastValue: unknown;

  constructor(message: string, lastValue: unknown, cause: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WaitForTimeoutError';
    this.lastValue = lastValue;
  }
}

const notYet = Symbol('notYet');

/**
 * Calls `condition` until it returns (or resolves to) a truthy value and returns that
 * value. A condition that throws or rejects counts as "not yet", so assertions can be used
 * as conditions: `await waitFor(() => { expect(x).toBe(1); return true; })`.
 *
 * On timeout it throws a `WaitForTimeoutError` naming the message, the time waited and the
 * last value or error seen. A single call that never settles is cut off by the timeout too.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const started = realNow();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let lastValue: unknown = undefined;
  let lastError: unknown = undefined;
  let sawValue = false;

  for (;;) {
    attempts += 1;
    const remaining = deadline - realNow();
    try {
      const value = await withDeadline(Promise.resolve().then(condition), Math.max(remaining, 0));
      if (value !== notYet) {
        if (value) return value;
        lastValue = value;
        lastError = undefined;
        sawValue = true;
      }
    } catch (error) {
      lastError = error;
    }
    const now = realNow();
    if (now >= deadline) break;
    await sleep(Math.min(intervalMs, deadline - now));
  }

  const what = typeof options.message === 'function' ? options.message() : options.message;
  const lastSeen =
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`
      : sawValue
        ? `last value: ${inspect(lastValue, { depth: 4, breakLength: Infinity })}`
        : 'the condition never settled';
  throw new WaitForTimeoutError(
    `${what ?? 'waitFor condition'}: not met after ${Math.round(realNow() - started)} ms ` +
      `(${attempts} attempt${attempts === 1 ? '' : 's'}); ${lastSeen}`,
    lastValue,
    lastError,
  );
}

/** Resolves like `promise`, or to `notYet` when `ms` pass first. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof notYet> {
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => resolve(notYet), ms);
    promise.then(
      (value) => {
        realClearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        realClearTimeout(timer);
        reject(error instanceof Error ? error : new Error(inspect(error)));
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}
