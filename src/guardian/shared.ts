import { Guardian } from './client.js';
import type { GuardTask } from './tasks.js';

/** What a run needs of its guardian: hand it tasks, start it early, and let it go at the end. */
export interface RunGuardian {
  guard(task: GuardTask): () => void;
  prepare(): void;
  close(): void;
  readonly pid: number | undefined;
}

/** A guardian process as the sharing sees it: one that may have died. */
export interface GuardianProcess extends RunGuardian {
  readonly alive: boolean;
  interrupted(signal: string): void;
}

/**
 * One guardian for every run a process holds at once (a program that runs
 * many models through the library): started with the first run, told that
 * all is done when the last one ends, and started afresh for a run after
 * that, or once the one it would share has died. Each run takes a lease,
 * whose close ends that run's share only.
 */
export class SharedGuardian {
  private current: GuardianProcess | undefined;
  private runs = 0;

  constructor(private readonly make: () => GuardianProcess = () => new Guardian()) {}

  /** The pid of the guardian the runs under way share, once it has started. */
  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** modelrun is forced out after an interrupt: the guardian records what it undoes as cancelled. */
  interrupted(signal: string): void {
    this.current?.interrupted(signal);
  }

  /** A run's lease on the guardian; its close() lets go of it once. */
  lease(): RunGuardian {
    // One that has died (killed) protects no new run: a new run gets a guardian of its own.
    if (this.current !== undefined && !this.current.alive) this.current = undefined;
    this.current ??= this.make();
    const guardian = this.current;
    this.runs++;
    let closed = false;
    return {
      guard: (task) => guardian.guard(task),
      prepare: () => guardian.prepare(),
      close: () => {
        if (closed) return;
        closed = true;
        this.runs--;
        if (this.runs > 0 || this.current !== guardian) return;
        this.current = undefined;
        guardian.close();
      },
      get pid() {
        return guardian.pid;
      },
    };
  }
}
