import { readStdinArgument } from '../load/file-input.js';
import { loadRunRequest } from '../load/run-request.js';
import type { RunOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { printLoad } from './loaded-run.js';
import { execute, startGuardian } from './run-execute.js';

/** `modelrun run`: stage, run on a backend, postprocess. Returns the exit code. */
export async function runModelCommand(options: RunOptions, ctx: CommandContext): Promise<number> {
  const stdin = await readStdinArgument(
    options.modelFile,
    options.backendConfig,
    options.postprocessorConfigs,
  );
  startGuardian(ctx.interrupts, !options.dryRun);
  const run = printLoad(loadRunRequest(options, { ...ctx, stdin }), ctx.output);
  if (typeof run === 'number') return run;
  return execute(
    {
      ...run,
      dryRun: options.dryRun,
      skipGenerate: options.skipGenerate,
      postprocess: options.postprocess,
      cleanupOnFailure: false,
    },
    options.json,
    ctx,
  );
}
