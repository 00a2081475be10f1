import type { Command } from 'commander';
import { VERSION } from '../package-info.js';
import { addGuides } from './command-guide.js';
import { addCommandTable, COMMAND_TABLE, type TableContext } from './command-table.js';
import { ModelrunCommand } from './command-tree.js';
import { addHelpCommand } from './help-command.js';
import type { TextSink } from './output.js';

export interface CliContext extends TableContext {
  stdout: TextSink;
  stderr: TextSink;
}

/** modelrun's program: its global options, then the command table (command-table.ts). */
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

  addCommandTable(program, COMMAND_TABLE, ctx);
  // Last: these two cover every command added above.
  addHelpCommand(program);
  addGuides(program);
  return program;
}
