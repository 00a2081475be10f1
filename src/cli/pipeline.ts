import { readStdinArgument } from '../load/file-input.js';
import { loadRunRequest } from '../load/run-request.js';
import type { PipelineOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printLoad } from './loaded-run.js';
import { execute } from './run-execute.js';

/** `modelrun pipeline`: a model, its backend and its postprocessing from one file; flags override its sections. */
export async function runPipelineCommand(
  options: PipelineOptions,
  ctx: CommandContext,
): Promise<number> {
  const stdin = await readStdinArgument(
    options.pipelineFile,
    options.backendConfig,
    options.postprocessorConfigs,
  );
  // The run's lease on the guardian, whose process then boots on another core while the files load.
  const guardian = ctx.session.guardian(!options.dryRun);
  try {
    const layering = await layeringOf(options, ctx);
    const run = printLoad(loadRunRequest(options, { ...ctx, stdin, ...layering }), ctx.output);
    if (typeof run === 'number') return run;
    return await execute(
      {
        ...run,
        dryRun: options.dryRun,
        skipGenerate: options.skipGenerate,
        postprocess: options.postprocess,
        cleanupOnFailure: options.cleanupOnFailure,
      },
      options.json,
      ctx,
      guardian,
    );
  } finally {
    guardian.close();
  }
}
