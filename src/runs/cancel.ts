import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackendDefinition } from '../backends/contract.js';
import { type BackendGuardTask, findBackend } from '../backends/registry.js';
import { RunFailedError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import { presence } from '../exec/process-identity.js';
import { type CancelRequester, cancelRequester } from '../model/cancel-request.js';
import {
  awaitsPostprocessing,
  cancelPendingPostprocessing,
  endRecordFromOutside,
  endUnfinishedRecord,
  isUnderway,
  POSTPROCESSING_CANCELLED,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
  writeRunRecord,
} from '../model/run-record.js';
import { LockHeldError, lockStagingDir, waitForStagingLock } from '../model/staging-lock.js';
import { Redactor } from '../secrets.js';
import { readDetachedEntry } from './detached-entry.js';
import { watchEnd } from './end-watch.js';
import { viewRun } from './live.js';
import type { FoundRun } from './locate.js';

/** How long the modelrun that runs a run has to stop it and say so on record. */
const OWNER_STOP_MS = 90_000;

/** How long a modelrun on another machine has to answer the request, where modelrun cannot tell whether it still runs. */
const ELSEWHERE_STOP_MS = 30_000;

export interface CancelResult {
  /** `ended`: it had ended before; `cancelled`: stopped now. */
  outcome: 'ended' | 'cancelled';
  record: RunRecord;
  /** How it was stopped, for a person. */
  how: string;
}

export interface CancelDeps {
  env: NodeJS.ProcessEnv;
  /** Progress lines ("asked modelrun (pid 12) to stop the run"). */
  status(line: string): void;
  /** How long to wait for the owner; tests shorten it. */
  ownerStopMs?: number;
}

/**
 * Stops a run from any process. It leaves a cancel request in the run's
 * .modelrun/, which the process that runs the run (a `modelrun run`, a
 * detached supervisor, a program using the library) answers within a
 * second: it stops the model with the backend's grace, cleans up and
 * records `cancelled` itself. No process is signalled on the word of
 * run.json, which a model can write. When nothing answers (the process is
 * gone, or stays silent), the run is stopped through its handle (scancel, a
 * container stopped then removed, the process group's SIGTERM then SIGKILL),
 * once the handle is shown to be this run's, and the record says `cancelled`.
 */
export async function cancelRun(found: FoundRun, deps: CancelDeps): Promise<CancelResult> {
  const request = cancelRequester(found.dir);
  const result = await stopRun(found, deps, request);
  // Nothing was stopped: a request left on the way would cancel the next wait's postprocessing.
  if (result.outcome === 'ended') await request.withdraw();
  return result;
}

async function stopRun(
  found: FoundRun,
  deps: CancelDeps,
  request: CancelRequester,
): Promise<CancelResult> {
  const path = join(found.dir, RUN_RECORD_PATH);
  let { record } = found;
  if (!isUnderway(record))
    return (await stopPostprocessing(found, record, deps, request)) ?? hadEnded(record);
  await refuseAnotherFoldersRun(found, record, deps.env);
  const owner = record.owner;
  const where = owner === undefined ? 'none' : presence(owner);
  // Asked only of a modelrun that may answer: a request nobody answers would outlive a run that had
  // ended unseen (a detached job), and cancel the postprocessing of the wait that finds it.
  if (owner !== undefined && where !== 'gone' && where !== 'none' && (await request.ask())) {
    deps.status(
      `asked modelrun (pid ${owner.pid} on ${owner.host}), which runs it, to stop it and clean up`,
    );
    const ms = where === 'alive' ? (deps.ownerStopMs ?? OWNER_STOP_MS) : ELSEWHERE_STOP_MS;
    const ended = await untilEnded(
      found,
      deps.env,
      ms,
      () => where === 'elsewhere' || presence(owner) === 'alive',
    );
    if (ended !== undefined)
      return {
        outcome: ended.status === 'cancelled' ? 'cancelled' : 'ended',
        record: ended,
        how: `modelrun (pid ${owner.pid}) stopped it`,
      };
    deps.status(`modelrun (pid ${owner.pid}) did not end the run; stopping it through its handle`);
    record = (await readRunRecord(path)) ?? record;
    if (!isUnderway(record)) return hadEnded(record);
  }
  // A run that nothing follows (a detached job, one whose modelrun has gone) may have ended
  // meanwhile: its own end is recorded, and stands; a cancel does not overwrite it.
  const view = await viewRun({ dir: found.dir, record }, deps.env);
  if (!isUnderway(view.record))
    return (await stopPostprocessing(found, view.record, deps, request)) ?? hadEnded(view.record);
  const handle = record.handle;
  let how = 'nothing of it had started';
  if (handle !== undefined) {
    const backend = findBackend(record.backend.type);
    if (backend === undefined)
      throw new RunFailedError(`no backend type "${record.backend.type}" in this modelrun`, {
        hint: 'cancel it with the modelrun that started it',
      });
    const run = { runId: record.run_id, stagingDir: found.dir };
    await stopThrough(backend, handle, deps.env, run, { what: 'the run', where: 'where it runs' });
    how = `stopped through its handle (${handle.kind})`;
  }
  const reason = 'cancelled with `modelrun cancel`';
  const written = await endUnfinishedRecord(path, record, (onDisk) =>
    endRecordFromOutside(onDisk, 'cancelled', reason),
  );
  const now = written ?? (found.kept === true ? undefined : await readRunRecord(path));
  if (now !== undefined) return { outcome: 'cancelled', record: now, how };
  // Its run.json was gone, or rewritten by its model: the cancel is recorded from what was kept.
  const ended = { ...record };
  endRecordFromOutside(ended, 'cancelled', reason);
  await writeRunRecord(found.dir, ended, new Redactor());
  return { outcome: 'cancelled', record: ended, how };
}

/** Stops `what` through its handle, or says it could not, and that `status` shows `where`. */
async function stopThrough(
  backend: BackendDefinition<BackendGuardTask>,
  handle: RunHandle,
  env: NodeJS.ProcessEnv,
  run: { runId: string; stagingDir: string },
  { what, where }: { what: string; where: string },
): Promise<void> {
  await backend.handle.cancel(handle, env, run).catch((error: Error) => {
    throw new RunFailedError(`could not stop ${what}: ${error.message}`, {
      hint: `see \`modelrun status\` for ${where}, and stop it there`,
      cause: error,
    });
  });
}

function hadEnded(record: RunRecord): CancelResult {
  return { outcome: 'ended', record, how: 'it had ended' };
}

/** How long the modelrun that postprocesses a run, once stopped, has to let go of the staging lock. */
const POSTPROCESS_LOCK_MS = 90_000;

/**
 * A detached run that succeeded may still have its postprocessing under
 * way: in a job of its own (Slurm's `postprocess_on: node`), waiting or
 * running, or in a `modelrun wait` that holds the run dir. That is
 * stopped (the job through its handle, which must run this run dir's
 * postprocess script; a wait by the cancel request it answers) and the run
 * recorded cancelled, so that no `wait` postprocesses it later. Undefined
 * when nothing of it is under way: the run had simply ended, and its
 * postprocessing is still the next wait's.
 */
async function stopPostprocessing(
  found: FoundRun,
  record: RunRecord,
  deps: CancelDeps,
  request: CancelRequester,
): Promise<CancelResult | undefined> {
  if (!awaitsPostprocessing(record)) return undefined;
  const backend = findBackend(record.backend.type);
  if (backend === undefined) return undefined;
  const run = { runId: record.run_id, stagingDir: found.dir };
  const underway = (state: string | undefined) => state === 'waiting' || state === 'running';
  // "Succeeded" is the record's word, which the model can write: the run's own job must have ended.
  let how: string | undefined;
  let runStopped = false;
  if (record.handle !== undefined) {
    const own = await backend.handle.inspect(record.handle, deps.env, run).catch(() => undefined);
    if (underway(own?.state)) {
      await request.ask();
      await stopThrough(backend, record.handle, deps.env, run, {
        what: 'the run',
        where: 'where it runs',
      });
      deps.status(
        `${record.run_id}'s record said it had succeeded, but its job still ran: stopped it`,
      );
      how = `stopped through its handle (${record.handle.kind}), though its record said it had succeeded`;
      runStopped = true;
    }
  }
  // The entry kept where the run was submitted, else the record's word, which the
  // backend checks against the job itself before stopping anything.
  const entry = await readDetachedEntry(deps.env, found.dir, record);
  const job = entry?.postprocess_job ?? record.detached?.postprocess?.handle;
  const live =
    job === undefined
      ? undefined
      : await backend.handle.inspect(job, deps.env, run).catch(() => undefined);
  // Whole seconds, as a compute node's clock may keep them.
  const stopping = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  if (job !== undefined && underway(live?.state)) {
    // Asked first: the job's modelrun, or a wait that sees the job end, then postprocesses nothing.
    await request.ask();
    await stopThrough(backend, job, deps.env, run, {
      what: 'the job that postprocesses the run',
      where: 'the job',
    });
    if (how === undefined) {
      how = `its postprocess job ${String(job.id)} was stopped; the model had succeeded`;
      deps.status(`stopped ${record.run_id}'s postprocessing: ${how}`);
    }
  } else if (how === undefined) {
    // A `modelrun wait` postprocessing it holds the run dir, and stops when asked.
    const free = await lockStagingDir(found.dir, () => undefined).catch((error: unknown) => {
      if (error instanceof LockHeldError) return undefined;
      throw error;
    });
    if (free !== undefined) {
      await free.release();
      return undefined;
    }
    if (!(await request.ask()))
      throw new RunFailedError(
        `cannot ask the modelrun that postprocesses ${record.run_id} to stop: ${join(found.dir, '.modelrun', 'cancel-request')} is not a request modelrun left (a FIFO, a folder or a link in its place)`,
        { hint: "remove it, which is not modelrun's, and run `modelrun cancel` again" },
      );
    how = 'the modelrun that postprocessed it was asked to stop; the model had succeeded';
    deps.status(`asked the modelrun that postprocesses ${record.run_id} to stop`);
  }
  // That modelrun lets go of the lock as it stops: recorded once it has.
  const lock = await waitForStagingLock(found.dir, {
    onCompromised: () => undefined,
    withinMs: deps.ownerStopMs ?? POSTPROCESS_LOCK_MS,
  }).catch((error: Error) => {
    throw new RunFailedError(
      `stopped the postprocessing of ${record.run_id}, but its record still says it is to be postprocessed: ${error.message}`,
      { hint: 'run `modelrun cancel` again once that modelrun has let go of the run dir' },
    );
  });
  try {
    const written = await cancelPendingPostprocessing(found.dir, record, {
      reason: runStopped ? 'cancelled with `modelrun cancel`' : POSTPROCESSING_CANCELLED,
      stopping,
      runStopped,
    });
    if (written !== undefined) return { outcome: 'cancelled', record: written, how };
    // Postprocessed (or replaced) before it was stopped: that stands. The modelrun that
    // postprocessed it may have seen the request first, and recorded the cancel itself.
    const now = (await readRunRecord(join(found.dir, RUN_RECORD_PATH))) ?? record;
    return now.status === 'cancelled' ? { outcome: 'cancelled', record: now, how } : hadEnded(now);
  } finally {
    await lock?.release();
  }
}

/**
 * A copy of a run dir (or one moved since its run began) holds the record
 * of a run that is another folder's: the process, container or job it names
 * says so (see each backend's handle), and nothing is asked or stopped. The
 * modelrun that runs it watches its own folder, so asking it from here
 * would only have been a wait.
 */
async function refuseAnotherFoldersRun(
  found: FoundRun,
  record: RunRecord,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const handle = record.handle;
  const backend = handle === undefined ? undefined : findBackend(record.backend.type);
  if (handle === undefined || backend === undefined) return;
  const live = await backend.handle
    .inspect(handle, env, { runId: record.run_id, stagingDir: found.dir })
    .catch(() => undefined);
  if (live?.notTheRuns === true)
    throw new RunFailedError(
      `${found.dir} holds the record of another folder's run: ${live.detail}`,
      {
        hint: 'this run dir is a copy, or was moved since the run began: cancel the run from the folder it was started in (move it back first, if it was moved)',
      },
    );
}

/**
 * The record once it says the run has ended (the record it had, when a
 * newer run's replaced it), or undefined after `ms` or once its modelrun
 * is gone without ending it.
 */
async function untilEnded(
  found: FoundRun,
  env: NodeJS.ProcessEnv,
  ms: number,
  ownerStays: () => boolean,
): Promise<RunRecord | undefined> {
  const look = watchEnd(found, env);
  const ended = async () => {
    const now = await look();
    return !now.ended ? undefined : now.replaced ? found.record : now.record;
  };
  const until = Date.now() + ms;
  // A modelrun that dies meanwhile will not answer: stop waiting for it.
  while (Date.now() < until && ownerStays()) {
    const record = await ended();
    if (record !== undefined) return record;
    await sleep(200);
  }
  // It may have ended just as its modelrun did.
  return ended();
}
