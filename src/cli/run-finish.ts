import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { POSTPROCESS_JOB_VARIABLE } from '../backends/contract.js';
import { findBackend } from '../backends/registry.js';
import { RunFailedError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import type { Guard } from '../guardian/tasks.js';
import { loadRunRequest } from '../load/run-request.js';
import { cancelRequested } from '../model/cancel-request.js';
import {
  awaitsPostprocessing,
  cancelPendingPostprocessing,
  endRecord,
  POSTPROCESSING_CANCELLED,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
  writeRunRecord,
} from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { type StagingLock, waitForStagingLock } from '../model/staging-lock.js';
import { watchCancelRequests } from '../run/cancel-watch.js';
import { runPostprocessors } from '../run/postprocess-stage.js';
import { type DetachedEntry, readDetachedEntry } from '../runs/detached-entry.js';
import type { FoundRun } from '../runs/locate.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printLoad } from './loaded-run.js';

/** Whether the record on disk is still the run's, and its postprocessing still to do: no other wait has done it, no new run has taken its place. */
function stillToPostprocess(now: RunRecord | undefined, run: RunRecord): now is RunRecord {
  return now !== undefined && now.started_at === run.started_at && awaitsPostprocessing(now);
}

/**
 * Postprocesses a detached run whose job has succeeded, as `run` would have
 * at its end: the postprocessors of the files it was made from (loaded
 * again now), under the staging lock, once however many waits ask. A wait
 * that finds the lock taken waits for it, then finds the work done. Gives
 * the record as it stands after, or an exit code when the files cannot be
 * loaded.
 */
export async function postprocessDetached(
  found: FoundRun & { record: RunRecord },
  ctx: CommandContext,
  terminal: CommandContext['terminal'],
): Promise<RunRecord | number> {
  const { output } = ctx;
  const byHand = 'postprocess it by hand: modelrun postprocess MODEL --postprocessor-config FILE';
  // The files come from the entry this host kept when it submitted the run, never from
  // run.json, which the model can rewrite to name postprocessors of its own choosing.
  const entry = await readDetachedEntry(ctx.env, found.dir, found.record);
  if (entry === undefined) {
    output.error(
      `${found.record.run_id} succeeded, but wait cannot postprocess it: what it was made from is kept only where it was submitted (modelrun's state folder there), and this one has no entry for it`,
      `wait on the host, and as the user, that submitted it, or ${byHand}`,
    );
    return 2;
  }
  const job = entry.postprocess_job;
  if (job !== undefined && ctx.env[POSTPROCESS_JOB_VARIABLE] !== String(job.id)) {
    const left = await whileJobPostprocesses(job, entry, found, ctx);
    if (left !== undefined) return left;
  }
  // A `modelrun cancel` asks before it stops anything: nothing is postprocessed after that.
  if (await cancelRequested(found.dir)) return underLock(found, ctx, () => undefined);
  // A record saying "succeeded" is the model's word too: the engine must say so.
  const problem = await notSucceeded(entry, found.dir, ctx.env);
  if (problem !== undefined) {
    output.error(
      `${found.record.run_id} is not postprocessed: ${problem}`,
      `check \`modelrun status ${found.dir}\``,
    );
    return 1;
  }
  const { files } = entry;
  // The run as it was submitted: its files, with the same --set values (but secret ones) and site config.
  const given = files.overrides ?? [];
  const layering = await layeringOf(
    {
      set: given.flatMap(([flag, text]) => (flag === '--set' ? [text] : [])),
      setString: given.flatMap(([flag, text]) => (flag === '--set-string' ? [text] : [])),
      siteConfig: files.site_config !== false,
    },
    ctx,
  );
  const loaded = printLoad(
    loadRunRequest(
      {
        modelFile: files.model,
        ...(files.backend === undefined ? {} : { backendConfig: files.backend }),
        postprocessorConfigs: files.postprocessors,
      },
      { ...ctx, stdin: undefined, ...layering },
    ),
    output,
  );
  if (typeof loaded === 'number') {
    output.error(
      `${found.record.run_id} succeeded, but its postprocessing is still to do: the files it was made from cannot be loaded again (above)`,
      `restore them and wait again, or ${byHand}`,
    );
    return loaded;
  }
  const stagingDir = stagingDirOf(loaded.model);
  const same = await Promise.all([realpath(stagingDir), realpath(found.dir)]).then(
    ([a, b]) => a === b,
    () => false,
  );
  if (!same)
    throw new RunFailedError(
      `${files.model} now stages its runs in ${stagingDir}, not in ${found.dir}, so its postprocessors are not this run's`,
      {
        hint: `postprocess the run by hand: modelrun postprocess MODEL --postprocessor-config FILE`,
      },
    );
  return underLock(found, ctx, async (record, guard) => {
    output.status(`postprocessing ${record.run_id}`);
    // A cancel's request stops the postprocessors, as an interrupt would.
    const requests = watchCancelRequests(found.dir);
    const ran = await runPostprocessors(
      loaded.postprocessors,
      { model: loaded.model, stagingDir: found.dir },
      {
        env: ctx.env,
        signal: AbortSignal.any([ctx.session.signal, requests.signal]),
        terminal,
        status: (line) => output.info(line),
        guard,
        redactor: output.redactor,
      },
    ).finally(() => requests.stop());
    // Asked to cancel meanwhile (a postprocessor may outlive its signal, and succeed): that stands.
    if (requests.signal.aborted || (await cancelRequested(found.dir))) return undefined;
    // Cut short by Ctrl-C: left pending, for the next wait to do whole.
    if (ctx.session.signal.aborted) return record;
    const { stage, results } = ran;
    record.stages.postprocess = stage;
    record.postprocess = [...record.postprocess, ...results];
    if (stage.status === 'failed') {
      const failed = results.filter((r) => r.status === 'failed').map((r) => r.type);
      record.reason = `postprocessing failed: ${failed.join(', ')}`;
      endRecord(record, 'failed', new Date(record.ended_at ?? Date.now()));
    }
    await writeRunRecord(found.dir, record, output.redactor);
    return record;
  });
}

/**
 * `postprocess(record)` under the staging lock, on the record read again
 * there (another wait may have postprocessed the run meanwhile, a new run
 * taken its place): gives the record as it stands after. A `postprocess`
 * that gives undefined leaves the postprocessing to a `modelrun cancel`
 * that asked for it, and records the run cancelled.
 */
async function underLock(
  found: FoundRun & { record: RunRecord },
  ctx: CommandContext,
  postprocess: (record: RunRecord, guard: Guard) => Promise<RunRecord | undefined> | undefined,
): Promise<RunRecord> {
  const path = join(found.dir, RUN_RECORD_PATH);
  const lease = ctx.session.guardian();
  const done = ctx.session.begin(
    'stopping the postprocessing; the next `modelrun wait` runs it again',
  );
  let lock: StagingLock | undefined;
  try {
    lock = await waitForStagingLock(found.dir, {
      onCompromised: (error) => ctx.output.warn(`the staging lock was lost: ${error.message}`),
      guard: lease.guard,
      onHeld: (error) => ctx.output.status(`${error.message}; waiting for it`),
      signal: ctx.session.signal,
    });
    if (lock === undefined) return (await readRunRecord(path)) ?? found.record;
    const record = await readRunRecord(path);
    if (!stillToPostprocess(record, found.record)) return record ?? found.record;
    const after = await postprocess(record, lease.guard);
    if (after !== undefined) return after;
    ctx.output.status(
      `the postprocessing of ${record.run_id} was cancelled with \`modelrun cancel\``,
    );
    const cancelled = await cancelPendingPostprocessing(found.dir, record, {
      reason: POSTPROCESSING_CANCELLED,
      stopping: new Date(),
    });
    return cancelled ?? (await readRunRecord(path)) ?? record;
  } finally {
    done();
    await lock?.release();
    lease.close();
  }
}

/** How often a wait looks at a postprocess job that waits in the queue or runs. */
const JOB_POLL_MS = 2000;

/**
 * A detached run postprocessed by a job of its own (Slurm's `postprocess_on:
 * node`): waits while that job waits in the queue or runs, and gives the
 * record once the run is postprocessed, or an exit code (interrupted, or
 * the job's state cannot be told). Undefined once the job has ended without
 * postprocessing the run (it failed, or was cancelled): the postprocessing
 * is then this wait's, as for any detached run.
 */
async function whileJobPostprocesses(
  job: RunHandle,
  entry: DetachedEntry,
  found: FoundRun & { record: RunRecord },
  ctx: CommandContext,
): Promise<RunRecord | number | undefined> {
  const { output } = ctx;
  const backend = findBackend(entry.backend);
  if (backend === undefined) return undefined;
  const path = join(found.dir, RUN_RECORD_PATH);
  const run = { runId: entry.run_id, stagingDir: found.dir };
  let told = false;
  const done = ctx.session.begin(
    'stopping the waiting; the job goes on, and postprocesses the run',
  );
  try {
    for (;;) {
      const record = await readRunRecord(path);
      if (!stillToPostprocess(record, found.record)) return record ?? found.record;
      const live = await backend.handle.inspect(job, ctx.env, run);
      if (live.state === 'unknown') {
        output.error(
          `${record.run_id} is postprocessed by a job of its own, whose state cannot be told: ${live.detail}`,
          `wait again later, or see \`modelrun status ${found.dir}\``,
        );
        return 1;
      }
      if (live.state === 'ended' || live.state === 'gone') {
        // It may have postprocessed the run since the look at the record.
        const now = await readRunRecord(path);
        if (now !== undefined && !awaitsPostprocessing(now)) return now;
        // Stopped by a `modelrun cancel`, which records that once the job lets go of the run.
        if (await cancelRequested(found.dir)) return undefined;
        output.warn(
          `the job that was to postprocess ${record.run_id} ended without doing it (${live.detail}); postprocessing it here`,
        );
        return undefined;
      }
      if (!told)
        output.status(
          `${record.run_id} is postprocessed by a job of its own: ${live.detail}; waiting for it`,
        );
      told = true;
      await sleep(JOB_POLL_MS, undefined, { signal: ctx.session.signal }).catch(() => undefined);
      if (ctx.session.signal.aborted) {
        output.status(
          `stopped waiting; job ${String(job.id)} goes on, and postprocesses ${record.run_id}`,
        );
        return ctx.session.exitCode() ?? 130;
      }
    }
  } finally {
    done();
  }
}

/** Why the engine does not say the entry's job succeeded, or undefined when it does. */
async function notSucceeded(
  entry: DetachedEntry,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const backend = findBackend(entry.backend);
  if (backend === undefined) return `no backend type "${entry.backend}" in this modelrun`;
  const live = await backend.handle.inspect(entry.handle, env, {
    runId: entry.run_id,
    stagingDir: dir,
  });
  if (live.state === 'ended' && live.outcome?.status === 'succeeded') return undefined;
  return `its engine does not say it succeeded (${live.detail})`;
}
