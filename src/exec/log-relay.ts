import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * Each of the two streams goes to its log file through a `cat` of its own,
 * both started by one shell: fd 3 to 4 and fd 5 to 6. Each cat holds only
 * its own pipe, and the shell none: a cat that fails (a full disk) closes
 * its pipe for good, so the model gets EPIPE instead of blocking on it. The
 * exit status says whether both copied everything.
 */
const COPY_BOTH = [
  'cat <&3 >&4 5<&- 6>&- & p=$!',
  'cat <&5 >&6 3<&- 4>&- & q=$!',
  'exec 3<&- 4>&- 5<&- 6>&-',
  's=0; wait $p || s=1; wait $q || s=1; exit $s',
].join('\n');

/**
 * Copies a model's two output streams into their log files outside
 * modelrun, so that nothing here handles each byte: the model writes into
 * pipes as it always did (it cannot seek in them, nor reopen a log through
 * /dev/stdout and truncate it), and cat writes the files at the disk's
 * pace. `inputs` are the pipes' ends to hand to the model. The copies run
 * in a session of their own, so a Ctrl-C in the terminal does not cut them
 * short; they end when every writer has closed the pipes.
 */
export class LogRelay {
  readonly inputs: { stdout: Writable; stderr: Writable };
  private readonly shell: ChildProcess;
  private readonly ended: Promise<Error | undefined>;
  private wasCut = false;

  constructor(logs: { stdout: number; stderr: number }, logDir: string) {
    this.shell = spawn('/bin/sh', ['-c', COPY_BOTH], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', logs.stdout, 'pipe', logs.stderr],
      detached: true,
      // cat's own words, in English, to tell a full disk from other failures;
      // the system's cat, whatever PATH modelrun was given.
      env: { PATH: [process.env.PATH, '/usr/bin:/bin'].filter(Boolean).join(':'), LC_ALL: 'C' },
    });
    const [, , , stdout, , stderr] = this.shell.stdio as Writable[];
    this.inputs = { stdout: stdout as Writable, stderr: stderr as Writable };
    // The pipes' ends are the model's: modelrun never writes into them, and
    // hears of a failed copy only through the exit status.
    for (const input of Object.values(this.inputs)) input.on('error', () => undefined);
    let said = '';
    this.shell.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (said.length < 4096) said += chunk;
    });
    this.ended = new Promise((resolve) => {
      this.shell.once('error', (error) =>
        resolve(new Error(`cannot copy the output into the logs in ${logDir}: ${error.message}`)),
      );
      this.shell.once('close', (code, signal) => {
        // Cut short on purpose: what was copied is kept, as a pump's cut keeps what it read.
        if (code === 0 || this.wasCut) resolve(undefined);
        else if (/No space left/i.test(said))
          resolve(new Error(`ENOSPC: no space left on device, write to the logs in ${logDir}`));
        else
          resolve(
            new Error(
              `copying the output into the logs in ${logDir} failed: ${said.trim() || (signal ?? `exit code ${code}`)}`,
            ),
          );
      });
    });
  }

  /** The model has the pipes: modelrun's own ends are closed, so the copies end when the model's side does. */
  handed(): void {
    for (const input of Object.values(this.inputs)) input.destroy();
  }

  /** Resolves once everything given is copied, with why it could not be, or undefined. */
  done(): Promise<Error | undefined> {
    return this.ended;
  }

  /** A process that escaped the run holds a pipe open: the copies stop here. */
  cut(): void {
    this.wasCut = true;
    const pid = this.shell.pid;
    if (pid === undefined) return;
    try {
      // The shell and its two cats, in the session it leads.
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
