import { type InterruptSignal, interruptExitCode, type StopReason } from '../exec/stop-reason.js';
import type { Guardian } from '../guardian/client.js';
import { Cleanup } from './cleanup.js';

/** What an interrupt does by default: stop the run in progress. */
export const STOPPING_THE_RUN = 'stopping the run and cleaning up';

/**
 * Connects the process's interrupt signals to the run in progress. The
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
  /** What the first interrupt does while active, for the line that says so. */
  stopping = STOPPING_THE_RUN;
  /** The run's guardian, once a command started one: it finishes the cleanup after a forced exit. */
  guardian: Guardian | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The exit code for the first signal received (130, 143, 129), or
   * undefined when none came: for a command that ends its own work on a
   * signal and returns, rather than being exited by the entry point.
   */
  exitCode(): number | undefined {
    const reason = this.controller.signal.reason as StopReason | undefined;
    return this.controller.signal.aborted && reason?.kind === 'interrupt'
      ? interruptExitCode(reason.signal)
      : undefined;
  }

  /** Records a signal; returns how many have been received so far. */
  interrupt(signal: InterruptSignal): number {
    this.received++;
    if (!this.controller.signal.aborted)
      this.controller.abort({ kind: 'interrupt', signal } satisfies StopReason);
    return this.received;
  }
}
