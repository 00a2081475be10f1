import { homedir } from 'node:os';
import { stagingDirOf } from '../model/staging-dir.js';
import { generate } from '../run/generate-stage.js';
import { checkStaging, deletionContext, openStaging, withStagingErrors } from '../run/staging.js';
import type { Output } from './output.js';
import { configFiles, type RunContext, requireModel } from './run-model.js';

/** `modelrun generate`: stages the model's inputs only. */
export async function runGenerate(
  options: { modelFile: string },
  output: Output,
  ctx: RunContext,
): Promise<number> {
  const model = requireModel(options.modelFile, ctx);
  const stagingDir = stagingDirOf(model);
  const request = { model, skipGenerate: false };
  const toEmpty = await checkStaging(
    request,
    stagingDir,
    deletionContext(model, homedir(), configFiles(ctx, options.modelFile)),
  );
  const lock = await openStaging(stagingDir, model.output_dir, (error) =>
    output.warn(`the staging lock was lost: ${error.message}`),
  );
  try {
    await withStagingErrors(stagingDir, model.output_dir, () =>
      generate(
        request,
        stagingDir,
        { status: (line) => output.info(output.style.dim(line)) },
        { empty: toEmpty },
      ),
    );
  } finally {
    await lock.release();
  }
  output.result(stagingDir);
  return 0;
}
