import { setTimeout as sleep } from 'node:timers/promises';
import type { SlurmClient } from './client.js';
import { FINAL_STATES, type JobState } from './state.js';

/** Polling starts quick and slows down, but never waits longer than this between looks. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5000;
/** How often the job's output files are read while it runs. */
const TAIL_MS = 250;

/** The time the runner waits by; tests hand it one that moves only when slept. */
export interface PollClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

export const realClock: PollClock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface FollowOptions {
  id: string;
  client: SlurmClient;
  clock: PollClock;
  status: (line: string) => void;
  tail: () => Promise<unknown>;
  signal: AbortSignal;
  observe: (state: JobState) => void;
  /** How long the job may stay PENDING; then onQueueTimeout cancels it. */
  queueTimeoutMs?: number;
  onQueueTimeout?: () => void;
}

/**
 * Follows the job until it reaches a final state: PENDING with its reason,
 * RUNNING on its nodes, then the end. Looks quickly at first and then less
 * often, never more than MAX_POLL_MS apart, and tails the output between.
 * `expired` is the PENDING state the job was in when queue_timeout ran out.
 */
export async function follow(
  options: FollowOptions,
): Promise<{ final: JobState | undefined; expired?: JobState }> {
  const { id, client, clock, status, tail, signal, observe, queueTimeoutMs, onQueueTimeout } =
    options;
  const queuedUntil = queueTimeoutMs === undefined ? undefined : clock.now() + queueTimeoutMs;
  let expired: JobState | undefined;
  /** The job has run: queue_timeout bounds only the wait before its first start. */
  let ran = false;
  let interval = FIRST_POLL_MS;
  let nextPoll = 0;
  let last = '';
  let seen: JobState | undefined;
  const result = (final: JobState | undefined) => ({
    final,
    ...(expired === undefined ? {} : { expired }),
  });
  for (;;) {
    if (clock.now() >= nextPoll) {
      const state = await client.query(id);
      if (state === undefined)
        return result(seen !== undefined && FINAL_STATES.has(seen.state) ? seen : undefined);
      seen = state;
      observe(state);
      if (state.state === 'RUNNING') {
        ran = true;
        // queue_timeout ran out as the job started: scancel --state=PENDING spared it.
        expired = undefined;
      }
      const line = describeState(id, state);
      if (line !== last) {
        status(line);
        last = line;
        interval = FIRST_POLL_MS;
      } else {
        interval = Math.min(interval * 1.5, MAX_POLL_MS);
      }
      if (FINAL_STATES.has(state.state)) return result(state);
      if (
        expired === undefined &&
        !ran &&
        !signal.aborted &&
        state.state === 'PENDING' &&
        queuedUntil !== undefined &&
        clock.now() >= queuedUntil
      ) {
        expired = state;
        onQueueTimeout?.();
      }
      nextPoll = clock.now() + interval;
    }
    await tail();
    // After a cancel, keep looking until the job is really gone, but at once.
    const cancelling = signal.aborted || expired !== undefined;
    // Waiting for queue_timeout: look again when it runs out, not up to MAX_POLL_MS later.
    if (queuedUntil !== undefined && expired === undefined && !ran)
      nextPoll = Math.min(nextPoll, Math.max(queuedUntil, clock.now()));
    await clock.sleep(cancelling ? Math.min(TAIL_MS, interval) : TAIL_MS);
  }
}

function describeState(id: string, state: JobState): string {
  if (state.state === 'PENDING') return `job ${id} PENDING (${state.reason ?? 'waiting'})`;
  if (state.state === 'RUNNING') return `job ${id} RUNNING on ${state.nodes ?? 'its node'}`;
  return `job ${id} ${state.state}`;
}

/** Reads the output files until they stop growing: a shared filesystem may show the last lines late. */
export async function settle(tail: () => Promise<number[]>, clock: PollClock): Promise<void> {
  let quiet = 0;
  for (let round = 0; round < 20 && quiet < 2; round++) {
    const read = (await tail()).reduce((a, b) => a + b, 0);
    quiet = read === 0 ? quiet + 1 : 0;
    if (quiet < 2) await clock.sleep(100);
  }
}
