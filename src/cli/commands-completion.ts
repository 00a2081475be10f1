import { Argument, type Command } from 'commander';
import { completionScript, SHELLS } from './completion-scripts.js';
import { completionSpecs } from './completion-spec.js';
import type { CliContext } from './program.js';

/** `modelrun completion bash|zsh|fish`: prints a completion script built from the command tree. */
export function addCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS as unknown as string[]))
    .action((shell: (typeof SHELLS)[number]) => {
      ctx.output.raw(completionScript(shell, completionSpecs(program)));
    });
}
