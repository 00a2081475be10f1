import type { Command } from 'commander';
import { VERSION } from '../package-info.js';
import type { Interrupts } from '../run/interrupts.js';
import { addGuides } from './command-guide.js';
import { ModelrunCommand } from './command-tree.js';
import { addBackendsCommands } from './commands-backends.js';
import { addCompletionCommand } from './commands-completion.js';
import { addInitCommand } from './commands-init.js';
import { addModelCommands } from './commands-model.js';
import { addHelpCommand } from './help-command.js';
import type { Output, TextSink } from './output.js';

export interface CliContext {
  output: Output;
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The run in progress, for SIGINT and SIGTERM. */
  interrupts: Interrupts;
  /** Where a model's output is echoed: the real stdout and stderr. */
  terminal: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** Receives each command's exit code. */
  setExitCode(code: number): void;
}

/**
 * The command table. Each action parses its options and hands them to a
 * plain `runX(options, output)` function, imported only when that command
 * runs so that start-up stays light.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new ModelrunCommand('modelrun')
    .description(
      'Run a scientific model on a local process, a Docker or Apptainer container, or a Slurm cluster.',
    )
    .version(VERSION, '--version', 'print the version')
    .option('--no-color', 'print without colour (NO_COLOR is honoured too)')
    .option('-v, --verbose', 'print debug output, and stack traces for unexpected errors')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)');

  addInitCommand(program, ctx);
  addModelCommands(program, ctx);
  addBackendsCommands(program, ctx);
  addCompletionCommand(program, ctx);
  // Last: these two cover every command added above.
  addHelpCommand(program);
  addGuides(program);
  return program;
}
