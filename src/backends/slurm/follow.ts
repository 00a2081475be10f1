import { setTimeout as sleep } from 'node:timers/promises';
import type { SlurmClient } from './client.js';
import { FINAL_STATES, type JobState } from './state.js';

/** Polling starts quick and slows down, but never waits longer than this between looks. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5000;
/** How often the job's output files are read while it runs. */
const TAIL_MS = 250;
/**
 * How long a stopped run waits for its job to end: scancel, sent again
 * while Slurm does not take it, then looks. Long enough for Slurm's
 * KillWait (30 s by default), and short enough that the CLI's minute for
 * cleaning up can still report the job as a leftover. A run that was not
 * stopped keeps asking however long Slurm does not answer: the job runs on.
 */
export const STOP_WAIT_MS = 45_000;
/** How often a scancel that Slurm did not take is sent again. */
export const RESEND_MS = 5000;
/** How often a stopped run asks about a job Slurm gives no answer on. */
const STOPPED_POLL_MS = 1000;
/** While Slurm does not answer, how often the run says so again. */
const NO_ANSWER_REMINDER_MS = 5 * 60_000;

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

/** How following ended: the job's final state (undefined when not seen), and why not seen. */
export interface Followed {
  final: JobState | undefined;
  /** The PENDING state the job was in when queue_timeout ran out. */
  expired?: JobState;
  /** Why a stopped run gave up waiting for the job's end: what the last look showed. */
  abandoned?: string;
}

/**
 * Follows the job until it reaches a final state: PENDING with its reason,
 * RUNNING on its nodes, then the end. Looks quickly at first and then less
 * often, never more than MAX_POLL_MS apart, and tails the output between.
 * A look that gets no answer (the controller restarts or is busy) is not
 * the job's end: the run says so and asks again, MAX_POLL_MS apart.
 */
export async function follow(options: FollowOptions): Promise<Followed> {
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
  /** Since when, and with what, Slurm has not answered. */
  let silence: { since: number; said: string; told: number } | undefined;
  /** When this loop first saw the run stopped. */
  let stoppedAt: number | undefined;
  const result = (final: JobState | undefined, abandoned?: string): Followed => ({
    final,
    ...(expired === undefined ? {} : { expired }),
    ...(abandoned === undefined ? {} : { abandoned }),
  });
  /** A stopped run waits STOP_WAIT_MS for the end, answered or not, then leaves the job. */
  const gaveUp = () => stoppedAt !== undefined && clock.now() - stoppedAt >= STOP_WAIT_MS;
  for (;;) {
    if (signal.aborted) stoppedAt ??= clock.now();
    if (clock.now() >= nextPoll) {
      const looked = await client.query(id).then(
        (state) => ({ state }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      );
      if ('error' in looked) {
        const now = clock.now();
        if (silence === undefined || silence.said !== looked.error) {
          status(`no answer from Slurm about job ${id}: ${looked.error}; asking again`);
          silence = { since: silence?.since ?? now, said: looked.error, told: now };
        } else if (now - silence.told >= NO_ANSWER_REMINDER_MS) {
          status(
            `still no answer from Slurm about job ${id} after ${Math.round((now - silence.since) / 60_000)} min; asking again`,
          );
          silence.told = now;
        }
        if (gaveUp()) return result(undefined, `Slurm gave no answer: ${looked.error}`);
        nextPoll = now + (stoppedAt === undefined ? MAX_POLL_MS : STOPPED_POLL_MS);
        await tail();
        await clock.sleep(TAIL_MS);
        continue;
      }
      const { state } = looked;
      if (silence !== undefined) {
        // Said again once Slurm answers, even when nothing changed meanwhile.
        last = '';
        silence = undefined;
      }
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
      if (gaveUp()) return result(undefined, `still ${state.state}`);
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
