import { homedir } from 'node:os';
import { stagingDirOf } from '../model/staging-dir.js';
import { lockStagingDir } from '../model/staging-lock.js';
import { generate } from '../run/generate-stage.js';
import type { Output } from './output.js';
import { type RunContext, requireModel } from './run-model.js';

/** `modelrun generate`: stages the model's inputs only. */
export async function runGenerate(
  options: { modelFile: string },
  output: Output,
  ctx: RunContext,
): Promise<number> {
  const model = requireModel(options.modelFile, ctx);
  const stagingDir = stagingDirOf(model);
  const lock = await lockStagingDir(stagingDir, (error) =>
    output.warn(`the staging lock was lost: ${error.message}`),
  );
  try {
    await generate({ model, skipGenerate: false }, stagingDir, {
      cwd: ctx.cwd,
      home: homedir(),
      status: (line) => output.info(output.style.dim(line)),
    });
  } finally {
    await lock.release();
  }
  output.result(stagingDir);
  return 0;
}
