import { constants } from 'node:os';

/**
 * The signals that stop a run and clean it up. SIGHUP is among them: it is
 * what a dropped SSH session sends, and the model, in a session of its own,
 * would not hear it and run on with nobody watching. (Node does not keep
 * nohup's ignored SIGHUP, so a run meant to outlive the session belongs in
 * tmux or screen.)
 */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/**
 * Why a run was stopped before its model ended by itself. `abort` is a
 * library caller's AbortSignal: a cancel like an interrupt, without a signal.
 */
export type StopReason =
  | { kind: 'timeout'; seconds: number }
  | { kind: 'interrupt'; signal: InterruptSignal }
  | { kind: 'abort' }
  /** `modelrun cancel`, from another process, through a request in the run's .modelrun/. */
  | { kind: 'request' }
  /** Another member of its ensemble failed, and the ensemble has `fail_fast: true`. */
  | { kind: 'fail-fast'; runId: string };

/** The exit code for a run ended by a signal: 128 plus the signal's number, as shells report it. */
export function interruptExitCode(signal: InterruptSignal): number {
  return 128 + constants.signals[signal];
}

/** True when the run was cancelled (a signal or an AbortSignal), not timed out. */
export function isCancel(stop: StopReason | undefined): boolean {
  return (
    stop?.kind === 'interrupt' ||
    stop?.kind === 'abort' ||
    stop?.kind === 'request' ||
    stop?.kind === 'fail-fast'
  );
}

/** The exit code of a run that `stop` ended: a signal's 128+n, otherwise 1. */
export function stopExitCode(stop: StopReason | undefined): number {
  return stop?.kind === 'interrupt' ? interruptExitCode(stop.signal) : 1;
}

/** "cancelled by SIGINT", "timed out after 60 s", "cancelled through its AbortSignal". */
export function describeStop(stop: StopReason): string {
  if (stop.kind === 'timeout') return `timed out after ${stop.seconds} s`;
  if (stop.kind === 'interrupt') return `cancelled by ${stop.signal}`;
  if (stop.kind === 'request') return 'cancelled with `modelrun cancel`';
  if (stop.kind === 'fail-fast')
    return `cancelled as member ${stop.runId} failed (the ensemble has fail_fast: true)`;
  return 'cancelled through its AbortSignal';
}
