import { isAbsolute, normalize } from 'node:path';
import { openRunCgroup } from './cgroup.js';
import { carriesMark, findMarked, markBelongsTo } from './escaped-processes.js';
import type { HandleOps, LiveState, ProcessGroupTask } from './guard.js';
import { currentBootId, type ProcessIdentity, presence } from './process-identity.js';

/**
 * A local or Apptainer run's handle: its process group, named by the
 * leader's identity so that a reused pid is never taken for the run.
 */
export const processGroupHandle: HandleOps<GroupHandle> = {
  kind: 'process-group',
  read: readProcessGroup,
  async inspect(handle, _env, run) {
    const state = inspectGroup(handle);
    // Another folder's run, while it runs; once nothing of it is left, the copy's record may say so.
    return state.state === 'running' && !markBelongsTo(handle.mark, run.stagingDir)
      ? notTheRuns(handle)
      : state;
  },
  async cancel(handle, _env, run) {
    const state = markBelongsTo(handle.mark, run.stagingDir)
      ? inspectGroup(handle)
      : notTheRuns(handle);
    if (state.state === 'unknown') throw new Error(state.detail);
    // The group by its number only while its first process is the one the run
    // started, carrying the run's mark; otherwise the run is found by its mark
    // and its cgroup alone, so that no stranger's group is ever signalled.
    const { pgid: _unproven, ...byMark } = handle;
    const { stopAbandonedGroup } = await import('./undo-process-group.js');
    await stopAbandonedGroup(leaderIsTheRuns(handle) ? handle : byMark);
  },
};

export type GroupHandle = ProcessGroupTask & {
  pgid: number;
  leader: ProcessIdentity;
  mark: string;
};

/** The first process the run started, still running, and carrying the run's mark. */
function leaderIsTheRuns(handle: GroupHandle): boolean {
  return presence(handle.leader) === 'alive' && carriesMark(handle.pgid, handle.mark);
}

/**
 * A record copied from another run dir (or a run dir moved since its run
 * began): its handle names the other folder's run, which is left alone.
 */
function notTheRuns(handle: GroupHandle): LiveState {
  return {
    state: 'unknown',
    notTheRuns: true,
    detail: `process group ${handle.pgid} was started for a run in another folder (this run dir is a copy, or was moved): it is not this run's, and is left alone`,
  };
}

function inspectGroup(handle: GroupHandle): LiveState {
  const where = presence(handle.leader);
  if (where === 'elsewhere')
    return {
      state: 'unknown',
      detail: `process group ${handle.pgid} runs on ${handle.leader.host}; look there`,
    };
  const boot = currentBootId();
  if (handle.leader.boot_id !== undefined && boot !== undefined && handle.leader.boot_id !== boot)
    return {
      state: 'ended',
      detail: `process group ${handle.pgid} ended: the machine has restarted since`,
    };
  if (leaderIsTheRuns(handle))
    return { state: 'running', detail: `process ${handle.pgid} is running` };
  // Its first process has exited, or cleared its environment: what is left of
  // the run carries the mark, or is in its cgroup.
  const marked = findMarked(handle.mark).length;
  const inCgroup = handle.cgroup === undefined ? 0 : openRunCgroup(handle.cgroup).members().length;
  if (marked > 0 || inCgroup > 0)
    return {
      state: 'running',
      detail: `process group ${handle.pgid} has exited, but processes it started still run (${Math.max(marked, inCgroup)})`,
    };
  return { state: 'ended', detail: `process group ${handle.pgid} has exited` };
}

/** A mark as newRunMark makes it: the run id, then 16 hex digits (and the folder's 8); nothing shorter matches a stranger. */
const MARK = /^(?:[A-Za-z0-9._-]{1,128}-)?[0-9a-f]{16}(?:\.[0-9a-f]{8})?$/;

function readProcessGroup(value: Record<string, unknown>): GroupHandle | undefined {
  const { pgid, graceMs, mark, cgroup, leader } = value;
  if (!isPid(pgid) || typeof mark !== 'string' || !MARK.test(mark)) return undefined;
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) return undefined;
  const named = readIdentity(leader);
  if (named === undefined || named.pid !== pgid) return undefined;
  // Only the cgroup the process runner made for this mark: another run's would be killed whole.
  if (cgroup !== undefined && !(isCgroupDir(cgroup) && cgroup.endsWith(`/modelrun-${mark}`)))
    return undefined;
  return {
    kind: 'process-group',
    pgid,
    graceMs: Math.min(graceMs, 3_600_000),
    mark,
    leader: named,
    ...(typeof cgroup === 'string' ? { cgroup } : {}),
  };
}

/** Not 0 or 1: a signal to "group" 0 or 1 (kill(-1)) would reach every process of the user. */
function isPid(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 1 && value < 2 ** 22;
}

function readIdentity(value: unknown): ProcessIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, boot_id, start } = value as Record<string, unknown>;
  if (!isPid(pid) || typeof host !== 'string' || host === '') return undefined;
  if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) return undefined;
  return { pid, host, start, ...(typeof boot_id === 'string' ? { boot_id } : {}) };
}

/** A run's cgroup as the process runner makes it: modelrun-<mark> under /sys/fs/cgroup. */
function isCgroupDir(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    isAbsolute(value) &&
    normalize(value) === value &&
    value.startsWith('/sys/fs/cgroup/') &&
    /\/modelrun-[^/]+$/.test(value)
  );
}
