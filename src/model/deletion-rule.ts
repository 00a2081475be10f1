import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, parse } from 'node:path';
import { ConfigError } from '../errors.js';
import { isUnderway, RUN_RECORD_PATH, readRunRecord } from './run-record.js';
import { isInside, MODELRUN_DIR } from './staging-dir.js';
import { lockHolder } from './staging-lock-files.js';
import { inBookkeeping, realPathOf } from './staging-place.js';

export interface DeletionContext {
  /** The model's output_dir: never itself deleted. */
  outputDir: string;
  home: string;
  /** What the run was made from (model file, pipeline file, template): never inside a deleted folder. */
  sources: string[];
}

/** May modelrun delete this staging dir? `real` is the folder to delete, undefined when there is none. */
export type DeletionVerdict =
  | { allowed: true; real: string | undefined }
  | { allowed: false; why: string; hint: string };

const OWN_FOLDER_HINT =
  'point output_dir at a folder that holds only model runs, such as output_dir: ./simulations';

/**
 * The one rule for every folder modelrun deletes (delete_existing empties,
 * --cleanup-on-failure removes): only a folder modelrun staged itself. Its
 * real path (through symlinks) must hold a real `.modelrun/` folder, must
 * not hold the files the run was made from, and must be neither output_dir
 * itself, nor /, nor the home folder or a folder above it. An empty folder
 * has nothing to lose and passes without `.modelrun/`. The current folder
 * plays no part.
 */
export async function deletionVerdict(dir: string, ctx: DeletionContext): Promise<DeletionVerdict> {
  const refuse = (why: string, hint: string): DeletionVerdict => ({ allowed: false, why, hint });
  const real = await realPathOf(dir);
  const shown = real === dir ? '' : ` (${dir} leads there through a symlink)`;
  const home = await realPathOf(ctx.home);
  if (real === parse(real).root) return refuse(`it is the root folder${shown}`, OWN_FOLDER_HINT);
  // Another run's record and history: never a run's own folder, whatever it holds.
  if (inBookkeeping(real) || inBookkeeping(dir))
    return refuse(
      `it is in a ${MODELRUN_DIR} folder, another run's bookkeeping${shown}`,
      OWN_FOLDER_HINT,
    );
  if (real === home) return refuse(`it is your home folder${shown}`, OWN_FOLDER_HINT);
  if (isInside(real, home))
    return refuse(`it holds your home folder ${home}${shown}`, OWN_FOLDER_HINT);
  if (real === (await realPathOf(ctx.outputDir)))
    return refuse(
      'it is output_dir itself, which may hold more than this run',
      'keep run_id_subdir: true so that each run has a folder of its own, or empty the folder by hand',
    );
  if ((await lstat(dir).catch(() => undefined)) === undefined)
    return { allowed: true, real: undefined };
  for (const source of ctx.sources) {
    const path = await realPathOf(source);
    if (path === real || isInside(real, path))
      return refuse(
        `it holds ${source}, which this run was made from${shown}`,
        'keep the model file, pipeline file and template outside output_dir, such as output_dir: ./simulations',
      );
  }
  const marker = await lstat(join(real, MODELRUN_DIR)).catch(() => undefined);
  if (marker?.isDirectory()) {
    const live = await liveRunWithin(real);
    if (live === undefined) return { allowed: true, real };
    return refuse(
      `it holds ${live.dir}, the staging dir of another run that may still be going (${live.why})${shown}`,
      `see \`modelrun status ${live.dir}\`: wait for that run or cancel it, or move it out of ${dir}; and give each run an output_dir of its own, outside other runs' folders`,
    );
  }
  const entries = await readdir(real).catch(() => undefined);
  if (entries === undefined) return refuse(`it is not a folder${shown}`, OWN_FOLDER_HINT);
  if (entries.length === 0 && marker === undefined) return { allowed: true, real };
  return refuse(
    `modelrun did not stage it: it has no ${MODELRUN_DIR}/ folder${marker === undefined ? '' : ` (only a symlink by that name)`}${shown}`,
    'modelrun only deletes folders it staged itself; empty it by hand, or give the run a new run_id',
  );
}

/** For delete_existing: the folder to empty, or a ConfigError that says why not. */
export async function assertMayEmpty(
  dir: string,
  ctx: DeletionContext,
): Promise<string | undefined> {
  const verdict = await deletionVerdict(dir, ctx);
  if (verdict.allowed) return verdict.real;
  throw new ConfigError(`delete_existing refuses to empty ${dir}: ${verdict.why}`, {
    hint: verdict.hint,
  });
}

/**
 * A run staged somewhere below `root` that may still be going: its lock is
 * held (touched within the stale time), or its record says it is under way
 * (a detached Slurm job holds no lock). Folders are walked without
 * following links, and no run's own `.modelrun` is entered.
 */
async function liveRunWithin(root: string): Promise<{ dir: string; why: string } | undefined> {
  const folders = [root];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(folder, entry.name);
      if (entry.name !== MODELRUN_DIR) {
        folders.push(path);
        continue;
      }
      if (folder === root) continue;
      const why = await liveness(path);
      if (why !== undefined) return { dir: folder, why };
    }
  }
  return undefined;
}

/** Why the run whose `.modelrun` folder is `bookkeeping` may still be going, or undefined. */
async function liveness(bookkeeping: string): Promise<string | undefined> {
  const holder = await lockHolder(dirname(bookkeeping));
  if (holder !== undefined) return `its staging lock is held by ${holder}`;
  const record = await readRunRecord(join(dirname(bookkeeping), RUN_RECORD_PATH));
  if (record !== undefined && isUnderway(record)) return `its record says ${record.status}`;
  return undefined;
}
