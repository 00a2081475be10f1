import { lstat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readStdinArgument } from '../load/file-input.js';
import { loadRunRequest } from '../load/run-request.js';
import {
  maskRecord,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
  writeRunRecord,
} from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { lockStagingDir } from '../model/staging-lock.js';
import { assertStagingPlace } from '../model/staging-place.js';
import { refuseWhileEarlierRuns } from '../run/earlier-run.js';
import { runPostprocessors } from '../run/postprocess-stage.js';
import { withStagingErrors } from '../run/staging.js';
import type { PostprocessOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printLoad } from './loaded-run.js';

/**
 * `modelrun postprocess`: runs postprocessors on a finished run, those given
 * with --postprocessor-config or else the model file's own, and adds their
 * results to the run's run.json.
 */
export async function runPostprocessCommand(
  options: PostprocessOptions,
  ctx: CommandContext,
): Promise<number> {
  const { output } = ctx;
  const stdin = await readStdinArgument(options.modelFile, options.postprocessorConfigs);
  const layering = await layeringOf(options, ctx);
  const run = printLoad(loadRunRequest(options, { ...ctx, stdin, ...layering }), output);
  if (typeof run === 'number') return run;
  const { model, postprocessors: configs } = run;
  if (configs.length === 0) {
    throw new UsageError('no postprocessors to run', {
      hint: 'pass --postprocessor-config FILE, or list them under `postprocess:` in the model file',
    });
  }
  const stagingDir = stagingDirOf(model);
  await assertStagingPlace(stagingDir, model.output_dir, homedir());
  const record = await readRecord(stagingDir, options.modelFile);
  const guardian = ctx.session.guardian();
  const lock = await withStagingErrors(stagingDir, model.output_dir, () =>
    lockStagingDir(
      stagingDir,
      (error) => output.warn(`the staging lock was lost: ${error.message}`),
      guardian.guard,
    ),
  ).catch((error: unknown) => {
    guardian.close();
    throw error;
  });
  const done = ctx.session.begin('stopping the postprocessing and cleaning up');
  try {
    // A run whose model still writes its outputs (a detached job) holds no lock: its record says so.
    await refuseWhileEarlierRuns(stagingDir, ctx.env);
    const { stage, results } = await runPostprocessors(
      configs,
      { model, stagingDir },
      {
        env: ctx.env,
        signal: ctx.session.signal,
        // Under --json, stdout carries only the record; a postprocessor's own output goes to stderr.
        terminal: options.json
          ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr }
          : ctx.terminal,
        status: (line) => output.info(line),
        guard: guardian.guard,
        redactor: output.redactor,
      },
    );
    // Added to the results of earlier postprocessing, which stay on record.
    const updated =
      record === undefined
        ? undefined
        : {
            ...record,
            stages: { ...record.stages, postprocess: stage },
            postprocess: [...(record.postprocess ?? []), ...results],
          };
    if (updated !== undefined)
      await withStagingErrors(stagingDir, model.output_dir, () =>
        writeRunRecord(stagingDir, updated, output.redactor),
      );
    else
      output.warn(
        `${join(stagingDir, RUN_RECORD_PATH)} could not be read; the results are not recorded`,
      );
    const exitCode = ctx.session.exitCode() ?? (stage.status === 'succeeded' ? 0 : 1);
    if (options.json) {
      // The record as run.json now holds it; without one, this command's own results.
      if (updated !== undefined)
        output.maskedRaw(`${JSON.stringify(maskRecord(updated, output.redactor), null, 2)}\n`);
      else {
        const own = {
          staging_dir: stagingDir,
          stages: { postprocess: stage },
          postprocess: results,
        };
        output.raw(`${JSON.stringify(own, null, 2)}\n`);
      }
      return exitCode;
    }
    for (const result of results) {
      const mark =
        result.status === 'succeeded'
          ? output.style.success('✓')
          : result.status === 'failed'
            ? output.style.failure('✗')
            : '-';
      output.maskedResult(`${mark} ${result.type}: ${result.summary}`);
    }
    return exitCode;
  } finally {
    done();
    await lock.release().finally(() => guardian.close());
  }
}

/**
 * The run to postprocess must exist: without its run.json there is no run
 * (and nothing is created). A record that cannot be parsed is undefined.
 */
async function readRecord(stagingDir: string, modelFile: string): Promise<RunRecord | undefined> {
  const path = join(stagingDir, RUN_RECORD_PATH);
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || !info.isFile())
    throw new UsageError(`no run at ${stagingDir}: it has no ${RUN_RECORD_PATH}`, {
      hint: `run it first with \`modelrun run ${modelFile}\``,
    });
  return readRunRecord(path);
}
