/**
 * The longest delay one setTimeout holds: 2^31 - 1 ms, about 24.8 days.
 * Node fires a timer with a longer delay after 1 ms, with only a warning,
 * which would stop a 30-day run at its start.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The two timer functions this module needs; the global ones by default, fake ones in tests. */
export interface TimerFunctions {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: TimerFunctions = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Calls `callback` once after `ms`, however long, by chaining timers no
 * longer than MAX_TIMER_MS. Returns a function that cancels it.
 */
export function setLongTimeout(
  callback: () => void,
  ms: number,
  timers: TimerFunctions = GLOBAL_TIMERS,
): () => void {
  let handle: unknown;
  let cancelled = false;
  const arm = (remaining: number) => {
    const step = Math.min(Math.max(remaining, 0), MAX_TIMER_MS);
    handle = timers.setTimeout(() => {
      if (cancelled) return;
      if (remaining - step > 0) arm(remaining - step);
      else callback();
    }, step);
  };
  arm(ms);
  return () => {
    cancelled = true;
    timers.clearTimeout(handle);
  };
}
