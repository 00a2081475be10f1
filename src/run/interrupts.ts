import { Cleanup } from './cleanup.js';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** Why a run was stopped before its model ended by itself. */
export type StopReason =
  | { kind: 'timeout'; seconds: number }
  | { kind: 'interrupt'; signal: InterruptSignal };

/** The exit code for a run ended by a signal: 128 plus the signal's number, as shells report it. */
export function interruptExitCode(signal: InterruptSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/**
 * Connects the process's SIGINT and SIGTERM to the run in progress. The
 * entry point owns the signal handlers; a command that runs a model marks
 * itself active, listens to `signal`, and registers its undo steps in
 * `cleanup` so that a forced exit can say what it left behind.
 */
export class Interrupts {
  private readonly controller = new AbortController();
  readonly cleanup = new Cleanup();
  private received = 0;
  /** True while a command has something to clean up on interrupt. */
  active = false;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Records a signal; returns how many have been received so far. */
  interrupt(signal: InterruptSignal): number {
    this.received++;
    if (!this.controller.signal.aborted)
      this.controller.abort({ kind: 'interrupt', signal } satisfies StopReason);
    return this.received;
  }
}
