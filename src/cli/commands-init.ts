import type { Command } from 'commander';
import type { CliContext } from './program.js';

/** `modelrun init [DIR]`: a starter project to run and then make one's own. */
export function addInitCommand(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('write a starter project to run and make your own; never overwrites a file')
    .argument('[dir]', 'the project folder, created if missing', '.')
    .action(async (dir: string) => {
      const { runInit } = await import('./init.js');
      ctx.setExitCode(await runInit({ dir, cwd: ctx.cwd }, ctx.output));
    });
}
