import { UsageError } from '../errors.js';
import type { RunGuardian } from '../guardian/shared.js';
import { readStdinArgument, STDIN_ARG } from '../load/file-input.js';
import { loadRunRequest } from '../load/run-request.js';
import type { RunOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printLoad } from './loaded-run.js';
import { execute } from './run-execute.js';

/** `modelrun run`: stage, run on a backend, postprocess. Returns the exit code. */
export async function runModelCommand(options: RunOptions, ctx: CommandContext): Promise<number> {
  // Before standard input is read: a detached run could not read it.
  if (options.detach) refuseWithDetach(options);
  const stdin = await readStdinArgument(
    options.modelFile,
    options.backendConfig,
    options.postprocessorConfigs,
  );
  // The run's lease on the guardian, whose process then boots on another core while the files load.
  const guardian = options.detach ? undefined : ctx.session.guardian(!options.dryRun);
  try {
    return await loadAndRun(options, ctx, stdin, guardian);
  } finally {
    guardian?.close();
  }
}

async function loadAndRun(
  options: RunOptions,
  ctx: CommandContext,
  stdin: Awaited<ReturnType<typeof readStdinArgument>>,
  guardian: RunGuardian | undefined,
): Promise<number> {
  const load = loadRunRequest(options, { ...ctx, stdin, ...(await layeringOf(options, ctx)) });
  // A supervisor says the warnings itself, and they are shown from its log: once.
  if (options.detach && 'run' in load) {
    const detach = await import('./run-detach.js');
    if (detach.isSupervised(load.run)) return detach.detachRun(options, load.run, ctx);
  }
  const run = printLoad(load, ctx.output);
  if (typeof run === 'number') return run;
  if (options.detach) return (await import('./run-detach.js')).submitDetached(options, run, ctx);
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
    guardian,
  );
}

/** What --detach cannot go with: a dry run runs nothing, and the supervisor cannot read this standard input. */
function refuseWithDetach(options: RunOptions): void {
  if (options.dryRun)
    throw new UsageError(
      '--detach and --dry-run go not together: a dry run starts nothing to detach from',
      {
        hint: 'leave out one of them',
      },
    );
  if (
    [options.modelFile, options.backendConfig, ...options.postprocessorConfigs].includes(STDIN_ARG)
  )
    throw new UsageError(
      '--detach cannot read a file from standard input (-): the background run has none',
      {
        hint: 'save it to a file and give its path',
      },
    );
}
