import { lstat, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError, isKnownError } from '../errors.js';
import type { Guard } from '../guardian/tasks.js';
import {
  assertMayEmpty,
  type DeletionContext,
  type DeletionVerdict,
  deletionVerdict,
} from '../model/deletion-rule.js';
import { assertNoForeignFiles } from '../model/foreign-files.js';
import type { ModelConfig } from '../model/model-config.js';
import { isInside, within } from '../model/staging-dir.js';
import { lockStagingDir, type StagingLock } from '../model/staging-lock.js';
import {
  assertStagingPlace,
  makeStagingDir,
  realPathOf,
  stagingFsError,
} from '../model/staging-place.js';

/** What the deletion rule needs to know of a run. */
export function deletionContext(
  model: ModelConfig,
  home: string,
  sources: string[],
): DeletionContext {
  return {
    outputDir: model.output_dir,
    home,
    sources: model.template === undefined ? sources : [...sources, model.template],
  };
}

/** What checkStaging() found: the folder delete_existing empties, and the files staging must not replace. */
export interface StagingPlan {
  /** The folder to empty, as the deletion rule allowed it; none when undefined. */
  empty: string | undefined;
  /** The run's source files that lie in the staging dir, relative to it: no template entry may be staged over one. */
  keep: string[];
}

/**
 * Before anything is created or locked: the staging dir is a place a run can
 * be staged in, apart from the template it is staged from, and
 * delete_existing may empty it, and the template is never rendered over a
 * file of the user's. Changes nothing, so a dry run checks the same.
 */
export async function checkStaging(
  request: { model: ModelConfig; skipGenerate: boolean },
  stagingDir: string,
  deletion: DeletionContext,
): Promise<StagingPlan> {
  const { model } = request;
  await assertStagingPlace(stagingDir, model.output_dir, deletion.home);
  const empty =
    model.delete_existing && !request.skipGenerate
      ? await assertMayEmpty(stagingDir, deletion)
      : undefined;
  await assertApartFromTemplate(stagingDir, model);
  const keep = await sourcesIn(stagingDir, deletion.sources);
  if (model.template !== undefined && !request.skipGenerate)
    await assertNoForeignFiles(stagingDir, model.output_dir, keep, model.run_id_subdir);
  return { empty, keep };
}

/**
 * A run staged in its own template folder, inside it, or around it would
 * render over the template's files, or into itself without end. Compared by
 * real paths, so a symlink on either side changes nothing.
 */
export async function assertApartFromTemplate(
  stagingDir: string,
  model: ModelConfig,
): Promise<void> {
  if (model.template === undefined) return;
  const staging = await realPathOf(stagingDir);
  const template = await realPathOf(model.template);
  const why =
    staging === template
      ? 'it is the template folder'
      : within(template, staging)
        ? `it is inside the template folder ${model.template}`
        : isInside(staging, template)
          ? `it holds the template folder ${model.template}`
          : undefined;
  if (why === undefined) return;
  throw new ConfigError(
    `cannot stage the run in ${stagingDir} (output_dir ${model.output_dir}): ${why}, so staging would overwrite the template it renders`,
    {
      hint: 'keep output_dir and the template folder apart, such as template: ./template and output_dir: ./simulations',
    },
  );
}

/** The source files that lie inside the staging dir, relative to its real path. */
async function sourcesIn(stagingDir: string, sources: string[]): Promise<string[]> {
  const staging = await realPathOf(stagingDir);
  const inside: string[] = [];
  for (const source of sources) {
    const real = await realPathOf(source);
    if (isInside(staging, real)) inside.push(relative(staging, real));
  }
  return inside;
}

/** Makes the staging dir and locks it, with a clear error when the place cannot be written. */
export async function openStaging(
  stagingDir: string,
  outputDir: string,
  onCompromised: (error: Error) => void,
  guard?: Guard,
): Promise<StagingLock> {
  return withStagingErrors(stagingDir, outputDir, async () => {
    await makeStagingDir(stagingDir);
    return lockStagingDir(stagingDir, onCompromised, guard);
  });
}

/**
 * Runs `work`, turning a failed file operation in the staging dir (no
 * permission, a read-only or full disk) into an error that names the
 * folder and what to do, rather than a bug report.
 */
export async function withStagingErrors<T>(
  stagingDir: string,
  outputDir: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isKnownError(error)) throw error;
    throw stagingFsError(error, stagingDir, outputDir) ?? error;
  }
}

export type CleanupOutcome = { removed: true } | { removed: false; why: string; hint: string };

/**
 * For --cleanup-on-failure, taken before the run begins: the deletion rule's
 * verdict, and a refusal when anything was at the path then (a folder, even
 * an empty one, or a symlink): only a folder this run created is its to remove.
 */
export async function cleanupVerdictBefore(
  stagingDir: string,
  deletion: DeletionContext,
): Promise<DeletionVerdict> {
  const verdict = await deletionVerdict(stagingDir, deletion);
  if (!verdict.allowed) return verdict;
  const there = await lstat(stagingDir).catch(() => undefined);
  if (there === undefined) return verdict;
  return {
    allowed: false,
    why: there.isSymbolicLink()
      ? "it is a symlink that was there before this run began, so neither it nor where it leads is this run's to remove"
      : "it was there before this run began (with an earlier run's files, or yours, or empty), so it is not this run's to remove",
    hint: 'remove the folder by hand if you no longer need it',
  };
}

/**
 * --cleanup-on-failure: removes the staging dir of a failed run, under the
 * same rule as delete_existing. `before` is cleanupVerdictBefore(), from
 * before the run created `.modelrun/` in it. What cannot be removed (no
 * permission) is kept and named: the run's own failure is what the user
 * hears about, not a bug.
 */
export async function removeFailedRun(
  stagingDir: string,
  deletion: DeletionContext,
  before: DeletionVerdict,
): Promise<CleanupOutcome> {
  const now = await deletionVerdict(stagingDir, deletion);
  const verdict = before.allowed ? now : before;
  if (!verdict.allowed) return { removed: false, why: verdict.why, hint: verdict.hint };
  if (verdict.real !== undefined) {
    const left = await removeWhatCan(verdict.real);
    if (left.length > 0)
      return {
        removed: false,
        why: `it could not remove ${left.slice(0, 3).join(', ')}${left.length > 3 ? ` and ${left.length - 3} more` : ''} (${left.length === 1 ? 'it is' : 'they are'} kept, with the folders that hold ${left.length === 1 ? 'it' : 'them'})`,
        hint: 'remove them by hand, as a user allowed to',
      };
  }
  return { removed: true };
}

/** Removes `dir` and everything in it that can be; returns what could not be removed. */
async function removeWhatCan(dir: string): Promise<string[]> {
  const failed: string[] = [];
  const sweep = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) return;
    if (info.isDirectory()) {
      const entries = await readdir(path).catch(() => undefined);
      if (entries === undefined) failed.push(path);
      else for (const name of entries) await sweep(join(path, name));
    }
    // rm lstat()s what it removes: a link goes, its target stays.
    await rm(path, { recursive: true, force: true }).catch((error: NodeJS.ErrnoException) => {
      if (!failed.some((f) => within(path, f))) failed.push(path);
      if (error.code === undefined) throw error;
    });
  };
  await sweep(dir);
  return failed;
}
