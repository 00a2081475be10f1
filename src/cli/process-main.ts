import { BUG_EXIT_CODE } from '../errors.js';
import { INTERRUPT_SIGNALS, type InterruptSignal, interruptExitCode } from '../exec/stop-reason.js';
import { stallReported, untilTaken } from '../exec/streams.js';
import { escapeDeceptive } from '../exec/visible-name.js';
import { Session } from '../run/session.js';
import { runCli } from './run-cli.js';

/**
 * Waits until everything written to a stream has been handed to the OS, but
 * not for a reader that stopped reading (`modelrun run | less` left on its
 * first page): the run is over and its logs have everything. Resolves with
 * the bytes left unwritten, 0 when all of it was taken.
 */
async function drain(stream: NodeJS.WriteStream): Promise<number> {
  await Promise.race([
    new Promise<void>((resolve) => stream.write('', () => resolve())),
    untilTaken(() => stream.writableLength, 2000, 10_000),
  ]);
  return stream.writableLength;
}

async function exit(code: number): Promise<never> {
  const streams = [process.stdout, process.stderr] as const;
  const left = await Promise.all(streams.map(drain));
  // What is left behind a stalled reader is lost at exit, and a reader that
  // resumes later would see output that looks complete: say so on the other
  // stream, unless a run already did (with the log's path) or both stalled.
  const [outLeft, errLeft] = left;
  const stalled = (i: 0 | 1) => (left[i] ?? 0) > 0 && !stallReported.has(streams[i]);
  if (stalled(0) && errLeft === 0) {
    process.stderr.write(`modelrun: stdout's reader fell behind; ${outLeft} bytes not shown\n`);
    await drain(process.stderr);
  } else if (stalled(1) && outLeft === 0) {
    process.stdout.write(`modelrun: stderr's reader fell behind; ${errLeft} bytes not shown\n`);
    await drain(process.stdout);
  }
  // The one place modelrun exits.
  process.exit(code);
}

// A reader that goes away (`modelrun … | head`, or a terminal whose SSH
// session dropped), or a file that takes nothing more (`> /dev/full`, a
// full disk), is not an error worth a stack trace: the run goes on, and its
// logs and exit code have everything. Node writes to files and devices
// synchronously, and such a write throws out of write(): it is turned into
// the stream's error, which is ignored like the others. Before, the crash
// report, itself written to a stderr that took nothing, failed again and
// again, and modelrun spun for ever.
for (const stream of [process.stdout, process.stderr]) {
  if (stream.isTTY !== true) {
    const write = stream._write.bind(stream);
    stream._write = (chunk, encoding, callback) => {
      try {
        write(chunk, encoding, callback);
      } catch (error) {
        callback(error as Error);
      }
    };
  }
  stream.on('error', () => undefined);
}

// The first SIGINT, SIGTERM or SIGHUP stops the run in progress and waits
// for its cleanup; a second one exits at once, saying what was left behind.
const session = new Session();
const onSignal = (signal: InterruptSignal) => {
  const count = session.interrupt(signal);
  if (!session.active) {
    void exit(interruptExitCode(signal));
  } else if (count === 1) {
    process.stderr.write(
      `\nmodelrun: ${signal}: ${session.stopping} (press Ctrl-C again to exit at once)\n`,
    );
    // Cleanup gets a bounded time: a hung engine must not keep modelrun alive forever.
    setTimeout(() => forceExit(signal, 'cleanup is taking too long'), CLEANUP_LIMIT_MS).unref();
  } else {
    forceExit(signal, 'exiting at once');
  }
};

const CLEANUP_LIMIT_MS = 60_000;

/** Lists what the run set up and did not undo, so the user can clean it up by hand. */
function reportLeftovers(why: string, left: string[]): void {
  process.stderr.write(
    escapeDeceptive(
      left.length === 0
        ? `modelrun: ${why}; nothing was left to clean up\n`
        : `modelrun: ${why}; not cleaned up:\n${left.map((item) => `  - ${item}\n`).join('')}`,
    ),
  );
}

function forceExit(signal: InterruptSignal, why: string): void {
  session.forcedOut(signal);
  const left = session.cleanup.pending();
  reportLeftovers(why, left);
  const guardian = session.guardianPid;
  if (left.length > 0 && guardian !== undefined)
    process.stderr.write(
      `modelrun: its guardian (pid ${guardian}) goes on stopping the model, container or job in the background\n`,
    );
  void exit(interruptExitCode(signal));
}

// A bug that escapes every handler must still not leave a model, a container
// or a job behind: undo what the run set up, then exit as a bug.
const onCrash = (error: unknown) => {
  process.stderr.write(
    `modelrun: unexpected error: ${escapeDeceptive(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n` +
      'modelrun: this is a bug in modelrun; cleaning up the run, then exiting. Please report it.\n',
  );
  void session.cleanup.run(CLEANUP_LIMIT_MS).then((report) => {
    const left = [...report.unfinished, ...report.errors.map((e) => e.name)];
    if (left.length > 0) reportLeftovers('after the error', left);
    return exit(BUG_EXIT_CODE);
  });
};
process.on('uncaughtException', onCrash);
process.on('unhandledRejection', onCrash);

for (const signal of INTERRUPT_SIGNALS) process.on(signal, () => onSignal(signal));

// No top-level await: this file is bundled as a CommonJS script (src/cli/main.ts).
void runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  session,
}).then(exit);
