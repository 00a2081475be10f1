import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { visibleName } from '../exec/visible-name.js';
import { RUN_RECORD_PATH, type RunRecord, readRunRecord } from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { trustedRecord } from './detached-entry.js';

/** A run found on disk: its folder and what its run.json says. */
export interface FoundRun {
  dir: string;
  record: RunRecord;
  /** The record is the one modelrun kept when the run was submitted: run.json was rewritten or removed. */
  kept?: boolean;
}

/** Where run ids are looked up when no model file says otherwise: the default `output_dir`. */
export const DEFAULT_RUNS_DIR = 'simulations';

/**
 * The run that RUN names, by one rule: a folder is a run dir; a file is a
 * model file, whose staging dir is the run; anything else is a run id in the
 * default output dir (./simulations) of the current folder. Fails with a
 * UsageError that says which it tried.
 */
export async function locateRun(
  given: string,
  { cwd, env }: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<FoundRun> {
  if (given === '') throw new UsageError('the run is empty', { hint: HOW_TO_NAME });
  const shown = visibleName(given);
  // A link is followed: `latest` pointing at a run dir names that run.
  const path = await realpath(resolve(cwd, given)).catch(() => resolve(cwd, given));
  const kind = await stat(path).then(
    (stats) => (stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : 'other'),
    () => undefined,
  );
  if (kind === 'dir')
    return recordIn(
      path,
      env,
      `${shown} holds no run record (${RUN_RECORD_PATH}) that modelrun can read`,
    );
  if (kind === 'file')
    return recordIn(await stagingDirOfModel(path, given, cwd, env), env, undefined, shown);
  if (kind === 'other')
    throw new UsageError(`${shown} is neither a run dir nor a model file`, { hint: HOW_TO_NAME });
  if (isRunIdLike(given))
    return recordIn(
      join(cwd, DEFAULT_RUNS_DIR, given),
      env,
      `no run ${shown} in ./${DEFAULT_RUNS_DIR}, and no file or folder ${shown} here`,
    );
  throw new UsageError(`${shown} does not exist`, { hint: HOW_TO_NAME });
}

/** A name that may be a run id under ./simulations: no path, no `.` or `..`. */
export function isRunIdLike(given: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(given) && given !== '.' && given !== '..';
}

const HOW_TO_NAME = `give a run dir (the folder that holds .modelrun/run.json), the run's model or pipeline file, or a run id under ./${DEFAULT_RUNS_DIR}; \`modelrun runs\` lists them`;

async function recordIn(
  dir: string,
  env: NodeJS.ProcessEnv,
  missing?: string,
  modelFile?: string,
): Promise<FoundRun> {
  // A detached run whose model rewrote or removed its record is found through what was kept of it.
  const trusted = await trustedRecord(env, dir, await readRunRecord(join(dir, RUN_RECORD_PATH)));
  if (trusted !== undefined)
    return trusted.kept
      ? { dir, record: trusted.record, kept: true }
      : { dir, record: trusted.record };
  throw new UsageError(
    missing ??
      `the run of ${modelFile} (${dir}) has no run record: it has not run, or ran with another run_id`,
    { hint: HOW_TO_NAME },
  );
}

/** The staging dir a model file stages into; its errors, if any, as `validate` shows them. */
async function stagingDirOfModel(
  path: string,
  given: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const [{ validateModelFile }, { requireValid }, { kindOfFile }, { loadRunRequest }] =
    await Promise.all([
      import('../load/model-file.js'),
      import('../load/require-valid.js'),
      import('../load/any-file.js'),
      import('../load/run-request.js'),
    ]);
  // A pipeline file's run is its model's, with no --set values.
  if (kindOfFile(path, env) === 'pipeline') {
    const loaded = loadRunRequest({ pipelineFile: path, postprocessorConfigs: [] }, { env, cwd });
    if ('errors' in loaded) throw loaded.errors[0];
    return stagingDirOf(loaded.run.model);
  }
  return stagingDirOf(requireValid(validateModelFile(path, env, given), 'model file'));
}
