import type { Command } from 'commander';
import type { CompletionOptions } from './command-options.js';
import { prepareTree } from './command-table.js';
import { completionScript } from './completion-scripts.js';
import { completionSpecs } from './completion-spec.js';
import type { CommandContext } from './context.js';

/** `modelrun completion bash|zsh|fish`: prints a completion script built from the command tree. */
export async function runCompletion(
  options: CompletionOptions,
  ctx: Pick<CommandContext, 'output'>,
  program: Command,
): Promise<number> {
  // The scripts offer every choice, those the registry knows too.
  await prepareTree(program);
  ctx.output.raw(completionScript(options.shell, completionSpecs(program)));
  return 0;
}
