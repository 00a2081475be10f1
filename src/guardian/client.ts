import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import type { GuardMessage, GuardTask } from './tasks.js';

/** The guardian's script: built beside the CLI (npm run build). */
export const GUARDIAN_SCRIPT = join(PACKAGE_ROOT, 'dist', 'guardian.js');

/**
 * A helper process that undoes what a run started if modelrun itself dies
 * first: killed with SIGKILL, by the kernel's OOM killer, or forced out by a
 * second Ctrl-C. It runs in a session of its own, so that the signals meant
 * for modelrun do not reach it, and it learns that modelrun is gone when the
 * pipe between them closes without a "done".
 */
export class Guardian {
  private child: ChildProcess | undefined;
  private nextKey = 1;
  private closed = false;
  private unavailable = false;
  private exited = false;

  constructor(private readonly script = GUARDIAN_SCRIPT) {}

  /** Registers `task`; the function returned withdraws it. Started at the first task. */
  guard = (task: GuardTask): (() => void) => {
    if (this.closed) return () => {};
    const key = this.nextKey++;
    this.send({ op: 'add', key, task });
    let withdrawn = false;
    return () => {
      if (withdrawn) return;
      withdrawn = true;
      this.send({ op: 'remove', key });
    };
  };

  /** False once its process has ended (killed, or never could start): it then protects nothing. */
  get alive(): boolean {
    return !this.unavailable && !this.exited;
  }

  /** The pid of the guardian, once started; for the leftover report. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts the guardian ahead of the first task: it then boots while modelrun
   * itself loads and stages, on another core, rather than beside the engine
   * starting the model.
   */
  prepare(): void {
    if (!this.closed) this.start();
  }

  /** Tells the guardian that modelrun is forced out after an interrupt: see GuardMessage. */
  interrupted(signal: string): void {
    if (this.closed || this.child === undefined) return;
    this.send({ op: 'interrupted', signal });
  }

  /** Tells the guardian that modelrun ends normally, and lets it go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.child === undefined) return;
    this.send({ op: 'done' });
    this.child.stdin?.end();
  }

  private send(message: GuardMessage): void {
    const child = this.start();
    // The guardian gone (it should not be) only means no help after a crash; the run goes on.
    child?.stdin?.write(`${JSON.stringify(message)}\n`, () => undefined);
  }

  private start(): ChildProcess | undefined {
    if (this.child !== undefined || this.unavailable) return this.child;
    const child = spawnGuardian(this.script);
    if (child === undefined) {
      // The run goes on without help after a crash, as with a guardian that died.
      this.unavailable = true;
      return undefined;
    }
    child.on('error', () => undefined);
    child.on('exit', () => {
      this.exited = true;
    });
    child.stdin?.on('error', () => undefined);
    // Neither the process nor the pipe keeps modelrun alive. The pipe is a
    // net.Socket, which can unref, though it is declared as a Writable.
    child.unref();
    const stdin = child.stdin;
    if (stdin !== null && 'unref' in stdin && typeof stdin.unref === 'function') stdin.unref();
    this.child = child;
    return child;
  }
}

/** What the guardian needs of modelrun's environment: where the engines are, and its tools. */
const GUARDIAN_ENV =
  /^(?:PATH|HOME|USER|LOGNAME|TMPDIR|LANG|LC_[A-Z]+|DOCKER_[A-Z_]+|SLURM_[A-Z_]+|SBATCH_[A-Z_]+|MUNGE_[A-Z_]+)$/;

/**
 * Starts the guardian with modelrun's environment; should the system refuse
 * that (E2BIG: Node re-encodes a value that is not UTF-8 up to threefold),
 * with only what it needs. Undefined when it cannot start at all.
 */
function spawnGuardian(script: string): ChildProcess | undefined {
  const needed = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => GUARDIAN_ENV.test(name)),
  );
  for (const env of [process.env, needed]) {
    try {
      return spawn(process.execPath, [script], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env,
      });
    } catch {
      // Refused at once (E2BIG): try the smaller environment.
    }
  }
  return undefined;
}
