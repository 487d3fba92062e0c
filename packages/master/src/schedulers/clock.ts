/**
 * The clock of change sources and schedulers: the time and one-shot timers, injected so
 * unit tests drive time by hand. The system clock's timers are unref'ed (they never keep
 * the process alive) and survive Node's 24.8-day limit on one `setTimeout` by re-arming.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once, `ms` from now (at once when `ms` ≤ 0). A promise it returns is
   * awaited by `ManualClock.advance` (its rejection is the caller's to handle).
   */
  setTimeout(fn: () => unknown, ms: number): TimerHandle;
}

/** Node's limit for one setTimeout (2^31 - 1 ms); longer delays re-arm. */
const MAX_DELAY_MS = 2_147_483_647;

export function systemClock(now: () => number = Date.now): Clock {
  return {
    now,
    setTimeout(fn, ms) {
      const due = now() + Math.max(0, ms);
      let timer: NodeJS.Timeout | null = null;
      const arm = () => {
        const left = due - now();
        timer = setTimeout(
          () => {
            if (due - now() > 0 && left > MAX_DELAY_MS) arm();
            else void fn();
          },
          Math.min(Math.max(0, left), MAX_DELAY_MS),
        );
        timer.unref();
      };
      arm();
      return {
        cancel() {
          if (timer) clearTimeout(timer);
          timer = null;
        },
      };
    },
  };
}

/**
 * A clock moved by hand, for unit tests: `advance(ms)` runs every timer that falls due,
 * in order, awaiting what each returns.
 */
export class ManualClock implements Clock {
  private timers: { due: number; seq: number; fn: () => unknown }[] = [];
  private seq = 0;

  constructor(private time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => unknown, ms: number): TimerHandle {
    const timer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Timers waiting, as epoch ms. */
  pending(): number[] {
    return this.timers.map((t) => t.due).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running the timers that fall due (and those they set). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers]
        .filter((t) => t.due <= end)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.due);
      await next.fn();
      // Let what the timer started (promise chains) settle before the next one.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    }
    this.time = end;
  }
}
