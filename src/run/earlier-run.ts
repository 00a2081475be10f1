import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { isUnderway, RUN_RECORD_PATH, type RunRecord, readRunRecord } from '../model/run-record.js';
import { keptRunGoingOn } from '../runs/detached-entry.js';
import { viewRun } from '../runs/live.js';

/**
 * An earlier run still on record as underway, whose model its engine says
 * still runs or waits (a detached Slurm job, a model whose modelrun was
 * killed with its guardian), keeps its staging dir: a new run would stage
 * over its inputs as it reads them, and `generate` or `postprocess` would
 * change or read a run dir whose model is not done with it. One that has
 * ended is recorded so, and its record moves to the history as any other.
 * Gives the earlier run's record as it stands then, once read.
 */
export async function refuseWhileEarlierRuns(
  stagingDir: string,
  env: NodeJS.ProcessEnv,
): Promise<RunRecord | undefined> {
  // A detached run whose model rewrote or removed its record runs on all the same.
  await refuseWhileKeptRunGoes(stagingDir, env);
  const record = await readRunRecord(join(stagingDir, RUN_RECORD_PATH));
  if (record === undefined || !isUnderway(record)) return record;
  const view = await viewRun({ dir: stagingDir, record }, env);
  const live = view.live;
  if (!isUnderway(view.record) || live === undefined) return view.record;
  // Ended, or a handle shown to be another run's (a copied run dir): nothing of this run runs on.
  if (live.state === 'ended' || live.state === 'gone' || live.notTheRuns === true)
    return view.record;
  throw notEnded(stagingDir, record.run_id, live.detail);
}

/**
 * The dir's last detached run, as this host kept it, whatever its record
 * now says (the model can rewrite or remove it): refused while its engine
 * says it waits or runs. Only the engine is asked; nothing is written into
 * the dir.
 */
async function refuseWhileKeptRunGoes(stagingDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const going = await keptRunGoingOn(env, stagingDir);
  if (going !== undefined) throw notEnded(stagingDir, going.record.run_id, going.detail);
}

/** The error of a new run, `generate` or `postprocess` in a dir whose run `runId` has not ended. */
function notEnded(stagingDir: string, runId: string, detail: string): RunFailedError {
  return new RunFailedError(`${stagingDir} holds run ${runId}, which has not ended (${detail})`, {
    hint: `wait for it (modelrun wait ${stagingDir}), stop it (modelrun cancel ${stagingDir}), or give this run another run_id; should its engine be gone for good, move ${join(stagingDir, RUN_RECORD_PATH)} aside`,
  });
}

/**
 * What a new run must say of the earlier one (`record`) before it moves it
 * to the history: a detached run that succeeded and was never postprocessed
 * (nobody waited for it) loses its postprocessing, which the user should
 * hear of. Undefined when there is nothing to say.
 */
export function unfinishedEarlierRun(
  record: RunRecord | undefined,
  stagingDir: string,
): string | undefined {
  if (record?.detached === undefined || record.status !== 'succeeded') return undefined;
  if (record.stages.postprocess.status !== 'pending') return undefined;
  return `the earlier run ${record.run_id} in ${stagingDir} succeeded but was never postprocessed (nobody waited for it); this run replaces it, so its postprocessing will not be done`;
}
