import { homedir } from 'node:os';
import { readStdinArgument } from '../load/file-input.js';
import { loadRunRequest } from '../load/run-request.js';
import type { StageRecord } from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { refuseWhileEarlierRuns } from '../run/earlier-run.js';
import { generate } from '../run/generate-stage.js';
import { checkStaging, deletionContext, openStaging, withStagingErrors } from '../run/staging.js';
import type { GenerateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printLoad } from './loaded-run.js';

/** `modelrun generate`: stages the model's inputs only. */
export async function runGenerate(options: GenerateOptions, ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  const stdin = await readStdinArgument(options.modelFile);
  const run = printLoad(
    loadRunRequest(
      { modelFile: options.modelFile, postprocessorConfigs: [] },
      { ...ctx, stdin, ...(await layeringOf(options, ctx)) },
    ),
    output,
  );
  if (typeof run === 'number') return run;
  const { model, sources } = run;
  const stagingDir = stagingDirOf(model);
  const request = { model, skipGenerate: false };
  const plan = await checkStaging(request, stagingDir, deletionContext(model, homedir(), sources));
  const { session } = ctx;
  // A signal now stops rendering between entries, and the lock is released
  // below, rather than the process exiting with the lock still held.
  const done = session.begin();
  let lock: Awaited<ReturnType<typeof openStaging>> | undefined;
  let stage: StageRecord | undefined;
  try {
    lock = await openStaging(stagingDir, model.output_dir, (error) =>
      output.warn(`the staging lock was lost: ${error.message}`),
    );
    // A run whose model still reads its inputs (a detached job) holds no lock: its record says so.
    await refuseWhileEarlierRuns(stagingDir, ctx.env);
    stage = await withStagingErrors(stagingDir, model.output_dir, () =>
      generate(
        request,
        stagingDir,
        { status: (line) => output.status(line), signal: session.signal },
        { empty: plan.empty, keep: plan.keep },
      ),
    );
  } finally {
    await lock?.release();
    done();
  }
  const interrupted = session.exitCode();
  if (interrupted !== undefined) {
    output.warn(
      `interrupted: ${stagingDir} is only partly staged; run generate again to finish it`,
    );
    return interrupted;
  }
  if (options.json)
    output.raw(
      `${JSON.stringify({ run_id: model.run_id, staging_dir: stagingDir, generate: stage }, null, 2)}\n`,
    );
  else output.result(stagingDir);
  return 0;
}
