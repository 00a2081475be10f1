import { CommanderError } from 'commander';
import { Output, type TextSink } from './output.js';
import { presentError } from './present-error.js';
import { buildProgram } from './program.js';

export interface CliIO {
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  cwd: string;
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
  const program = buildProgram({ ...io, output, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    }
    return presentError(error, output);
  }
}
