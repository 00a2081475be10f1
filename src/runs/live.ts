import { join } from 'node:path';
import { findBackend } from '../backends/registry.js';
import type { LiveState } from '../exec/guard.js';
import { type ProcessPresence, presence } from '../exec/process-identity.js';
import {
  endDetachedRecord,
  endRecordFromOutside,
  endUnfinishedRecord,
  isUnderway,
  RUN_RECORD_PATH,
  type RunRecord,
} from '../model/run-record.js';
import type { FoundRun } from './locate.js';

/** A run as its record says, with what the engine says now. */
export interface RunView extends FoundRun {
  /** The modelrun process that runs it: `none` when the record names none (it has ended, or is older). */
  owner: ProcessPresence | 'none';
  /** What the engine says of the run's handle; absent once the run has ended or before it started. */
  live?: LiveState;
  /** What was put right on record, and why: the record said the run was underway when it was not. */
  reconciled?: string;
}

/**
 * Looks at a run through its handle, and puts its record right when the
 * modelrun that ran it is gone (killed with its guardian, a machine that
 * restarted) and the engine says the model has ended: such a run must
 * never stay `running` on record. A run whose model still runs is left as
 * it is, and so is one that modelrun still follows, which writes the end
 * itself.
 */
export async function viewRun(
  found: FoundRun,
  env: NodeJS.ProcessEnv,
  { reconcile }: { reconcile: boolean } = { reconcile: true },
): Promise<RunView> {
  const { record } = found;
  if (!isUnderway(record)) return { ...found, owner: 'none' };
  const owner = record.owner === undefined ? 'none' : presence(record.owner);
  const live = await inspectHandle(record, found.dir, env);
  const view: RunView = { ...found, owner, ...(live === undefined ? {} : { live }) };
  if (!reconcile) return view;
  if (record.detached !== undefined && record.owner === undefined) return endDetached(view, live);
  if (owner !== 'gone') return view;
  const ranBy = `modelrun (pid ${record.owner?.pid} on ${record.owner?.host}), which ran it, has gone`;
  const why =
    live === undefined
      ? `${ranBy} before the model started`
      : live.state === 'ended' || live.state === 'gone'
        ? `${ranBy}; ${live.detail}`
        : undefined;
  if (why === undefined) return view;
  // A run dir removed or replaced meanwhile has no record left to put right.
  const written = await endUnfinishedRecord(join(found.dir, RUN_RECORD_PATH), record, (onDisk) => {
    if (live?.exitCode !== undefined) onDisk.exit_code = live.exitCode;
    endRecordFromOutside(onDisk, 'failed', why);
  }).catch(() => undefined);
  return written === undefined ? view : { ...view, record: written, reconciled: why };
}

/**
 * A detached run (a Slurm job that no modelrun follows) whose engine says
 * it has ended is recorded as the engine tells: how, with what exit code,
 * and when. One the engine no longer knows, and whose end was kept nowhere,
 * is recorded failed, with why.
 */
async function endDetached(view: RunView, live: LiveState | undefined): Promise<RunView> {
  const path = join(view.dir, RUN_RECORD_PATH);
  // Out of the queue and running: said on record too, as a modelrun following it would.
  if (live?.state === 'running' && view.record.status === 'submitted') {
    const written = await endUnfinishedRecord(path, view.record, (onDisk) => {
      onDisk.status = 'running';
    }).catch(() => undefined);
    return written === undefined ? view : { ...view, record: written };
  }
  if (live === undefined || (live.state !== 'ended' && live.state !== 'gone')) return view;
  const ended = {
    status: live.outcome?.status ?? 'failed',
    detail: live.detail,
    endedAt: live.outcome?.endedAt ?? new Date(),
    ...(live.exitCode === undefined ? {} : { exitCode: live.exitCode }),
    ...(live.signal === undefined ? {} : { signal: live.signal }),
  };
  const written = await endUnfinishedRecord(path, view.record, (onDisk) =>
    endDetachedRecord(onDisk, ended),
  ).catch(() => undefined);
  return written === undefined
    ? view
    : { ...view, record: written, reconciled: `its job has ended: ${live.detail}` };
}

/** What the engine says of the run's handle, through the backend the record names. */
async function inspectHandle(
  record: RunRecord,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<LiveState | undefined> {
  if (record.handle === undefined) return undefined;
  const backend = findBackend(record.backend.type);
  if (backend === undefined)
    return {
      state: 'unknown',
      detail: `no backend type "${record.backend.type}" in this modelrun`,
    };
  return backend.handle.inspect(record.handle, env, {
    runId: record.run_id,
    stagingDir: dir,
  });
}
