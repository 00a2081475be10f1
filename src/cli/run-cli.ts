import { CommanderError } from 'commander';
import { Session } from '../run/session.js';
import { Output } from './output.js';
import { presentError } from './present-error.js';
import { buildProgram } from './program.js';

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

export interface CliIO {
  stdout: Stream;
  stderr: Stream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where SIGINT and SIGTERM arrive; the entry point wires the process's signals to it. */
  session?: Session;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. Never exits. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  // The presenter needs these before commander has parsed anything.
  const output = new Output({
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    color: !argv.includes('--no-color'),
    verbose: argv.includes('-v') || argv.includes('--verbose'),
  });
  let exitCode = 0;
  const program = buildProgram({
    ...io,
    output,
    session: io.session ?? new Session(),
    terminal: { stdout: io.stdout, stderr: io.stderr },
    setExitCode: (code) => (exitCode = code),
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message. It exits 0 only for
      // --help and --version; everything else it stops on is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    return presentError(error, output);
  }
}
