import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from './long-timer.js';

const DAY_MS = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([
    ['1 minute', 60_000],
    ['exactly the longest single timer', MAX_TIMER_MS],
    ['30 days, past what one setTimeout holds', 30 * DAY_MS],
    ['365 days, the longest timeout a config may give', 365 * DAY_MS],
  ])('waits %s, no less and no more', (_what, ms) => {
    const fired = vi.fn();
    setLongTimeout(fired, ms);
    vi.advanceTimersByTime(ms - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(400 * DAY_MS);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('does not fire a 30-day timer in its first hour', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 30 * DAY_MS);
    vi.advanceTimersByTime(3_600_000);
    expect(fired).not.toHaveBeenCalled();
  });

  it('never fires once cancelled, also between two chained timers', () => {
    const fired = vi.fn();
    const cancel = setLongTimeout(fired, 60 * DAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1000);
    cancel();
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });
});
