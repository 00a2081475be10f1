import { lstat, rm } from 'node:fs/promises';
import { isKnownError } from '../errors.js';
import type { Guard } from '../guardian/tasks.js';
import { assertMayEmpty, type DeletionContext, deletionVerdict } from '../model/deletion-rule.js';
import type { ModelConfig } from '../model/model-config.js';
import { lockStagingDir, type StagingLock } from '../model/staging-lock.js';
import { assertStagingPlace, makeStagingDir, stagingFsError } from '../model/staging-place.js';

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

/**
 * Before anything is created or locked: the staging dir is a place a run can
 * be staged in, and delete_existing may empty it. Returns the folder to
 * empty, if any. Changes nothing, so a dry run checks the same.
 */
export async function checkStaging(
  request: { model: ModelConfig; skipGenerate: boolean },
  stagingDir: string,
  deletion: DeletionContext,
): Promise<string | undefined> {
  const { model } = request;
  await assertStagingPlace(stagingDir, model.output_dir, deletion.home);
  if (!model.delete_existing || request.skipGenerate) return undefined;
  return assertMayEmpty(stagingDir, deletion);
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
 * --cleanup-on-failure: removes the staging dir of a failed run, under the
 * same rule as delete_existing. `before` is the rule's verdict from before
 * the run created `.modelrun/` in it: a folder that held someone else's
 * files then is not this run's to remove.
 */
export async function removeFailedRun(
  stagingDir: string,
  deletion: DeletionContext,
  before: Awaited<ReturnType<typeof deletionVerdict>>,
): Promise<CleanupOutcome> {
  const now = await deletionVerdict(stagingDir, deletion);
  const verdict = before.allowed ? now : before;
  if (!verdict.allowed) return { removed: false, why: verdict.why, hint: verdict.hint };
  if (verdict.real !== undefined) await rm(verdict.real, { recursive: true, force: true });
  // A staging dir that was a symlink to the removed folder now leads nowhere.
  if ((await lstat(stagingDir).catch(() => undefined))?.isSymbolicLink()) await rm(stagingDir);
  return { removed: true };
}
