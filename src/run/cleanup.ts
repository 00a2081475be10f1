/** One thing to undo, named for a person in case it cannot be. */
interface Step {
  name: () => string;
  undo: () => Promise<void>;
}

export interface CleanupReport {
  /** Steps that threw, with what they threw. */
  errors: { name: string; error: unknown }[];
  /** Steps still running when the time ran out. */
  unfinished: string[];
}

/**
 * Undo steps for what a run set up: the lock, the model's processes, a
 * container, a job. They run in reverse order of setup, each one even when an
 * earlier one failed, and their errors are collected rather than lost.
 */
export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<CleanupReport> | undefined;

  /** Registers an undo step; returns a function that drops it once the thing is undone another way. */
  defer(name: string | (() => string), undo: () => Promise<void>): () => void {
    const step = { name: typeof name === 'string' ? () => name : name, undo };
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index !== -1) this.steps.splice(index, 1);
    };
  }

  /** What is set up and not yet undone. */
  pending(): string[] {
    return this.steps.map((step) => step.name()).reverse();
  }

  /** Runs every step, newest first, giving up on waiting after `timeoutMs`. Runs once; later calls share the first. */
  run(timeoutMs: number): Promise<CleanupReport> {
    this.running ??= this.runSteps(timeoutMs);
    return this.running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run(30_000);
  }

  private async runSteps(timeoutMs: number): Promise<CleanupReport> {
    const report: CleanupReport = { errors: [], unfinished: [] };
    const deadline = Date.now() + timeoutMs;
    while (this.steps.length > 0) {
      const step = this.steps.pop() as Step;
      const name = step.name();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      });
      try {
        if (
          (await Promise.race([step.undo().then(() => 'done' as const), timedOut])) === 'timeout'
        ) {
          report.unfinished.push(name, ...this.pending());
          this.steps.length = 0;
        }
      } catch (error) {
        report.errors.push({ name, error });
      } finally {
        clearTimeout(timer);
      }
    }
    return report;
  }
}
