/**
 * A shared clock for elapsed times and "5s ago": one interval for the whole page, running
 * only while something shows a live time. Returns epoch seconds (with a fraction).
 */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
let now = Date.now() / 1000;
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now() / 1000;
    timer = setInterval(() => {
      now = Date.now() / 1000;
      for (const l of [...listeners]) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
