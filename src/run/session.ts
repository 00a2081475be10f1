import { type InterruptSignal, interruptExitCode, type StopReason } from '../exec/stop-reason.js';
import { type RunGuardian, SharedGuardian } from '../guardian/shared.js';
import { Cleanup } from './cleanup.js';

/** What an interrupt does by default: stop the run in progress. */
export const STOPPING_THE_RUN = 'stopping the run and cleaning up';

/**
 * What one modelrun process holds, for as long as it runs: its interrupt
 * signals, the undo steps of everything its runs set up, and one guardian
 * for all of them. It outlives any single run, so that a command can hold
 * many runs at once: an interrupt stops them all, a forced exit names what
 * each left behind, and the guardian is let go when the last run ends.
 *
 * The entry point owns the signal handlers. A command marks the work that
 * an interrupt stops with `begin()`, listens to `signal`, registers its undo
 * steps in `cleanup`, and takes a lease on the guardian with `guardian()`.
 */
export class Session {
  private readonly controller = new AbortController();
  readonly cleanup = new Cleanup();
  private readonly guardians: SharedGuardian;
  private received = 0;
  /** The work under way, oldest first, each with what an interrupt does to it. */
  private readonly work: { stopping: string }[] = [];

  constructor(guardians = new SharedGuardian()) {
    this.guardians = guardians;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Marks work that the first interrupt stops (and waits for), until the
   * function returned is called; `stopping` says what the interrupt does to
   * it, for the line printed when one comes.
   */
  begin(stopping: string = STOPPING_THE_RUN): () => void {
    const entry = { stopping };
    this.work.push(entry);
    return () => {
      const index = this.work.indexOf(entry);
      if (index !== -1) this.work.splice(index, 1);
    };
  }

  /** True while some work is under way that an interrupt stops: the entry point then waits for its cleanup. */
  get active(): boolean {
    return this.work.length > 0;
  }

  /** What the first interrupt does now: that of the newest work, which the others are part of. */
  get stopping(): string {
    return this.work.at(-1)?.stopping ?? STOPPING_THE_RUN;
  }

  /**
   * A lease on the session's guardian, for one run or one step: the
   * guardian is told that all is done only once every lease is closed. With
   * `early`, its process starts now, so that it boots on another core while
   * modelrun reads and stages the run.
   */
  guardian(early = false): RunGuardian {
    const lease = this.guardians.lease();
    if (early) lease.prepare();
    return lease;
  }

  /** The pid of the guardian under way, for the line that says it finishes the cleanup. */
  get guardianPid(): number | undefined {
    return this.guardians.pid;
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

  /**
   * The entry point exits at once on a second interrupt, or once cleanup
   * has taken too long: the guardian, which stops what is left, records it
   * as cancelled rather than lost.
   */
  forcedOut(signal: InterruptSignal): void {
    this.guardians.interrupted(signal);
  }

  /** Records a signal; returns how many have been received so far. */
  interrupt(signal: InterruptSignal): number {
    this.received++;
    if (!this.controller.signal.aborted)
      this.controller.abort({ kind: 'interrupt', signal } satisfies StopReason);
    return this.received;
  }
}
