import { isAbsolute, normalize } from 'node:path';
import type { HandleOps, LiveState, ProcessGroupTask } from './guard.js';
import { groupRuns } from './process-group.js';
import { type ProcessIdentity, presence } from './process-identity.js';

/**
 * A local or Apptainer run's handle: its process group, named by the
 * leader's identity so that a reused pid is never taken for the run.
 */
export const processGroupHandle: HandleOps<GroupHandle> = {
  kind: 'process-group',
  read: readProcessGroup,
  async inspect(handle) {
    return inspectGroup(handle);
  },
  async cancel(handle) {
    const state = inspectGroup(handle);
    if (state.state === 'unknown') throw new Error(state.detail);
    // A leader that is gone takes its number out of use only with the whole group:
    // what is left of the run is then found by its mark alone.
    const alive = state.state === 'running' && presence(handle.leader) === 'alive';
    const { pgid: _leaderGone, ...byMark } = handle;
    const { stopAbandonedGroup } = await import('./undo-process-group.js');
    await stopAbandonedGroup(alive ? handle : byMark);
  },
};

export type GroupHandle = ProcessGroupTask & {
  pgid: number;
  leader: ProcessIdentity;
  mark: string;
};

function inspectGroup(handle: GroupHandle): LiveState {
  const where = presence(handle.leader);
  if (where === 'elsewhere')
    return {
      state: 'unknown',
      detail: `process group ${handle.pgid} runs on ${handle.leader.host}; look there`,
    };
  if (where === 'alive') return { state: 'running', detail: `process ${handle.pgid} is running` };
  // The leader has exited. Linux gives no new process the number of a group
  // that still has members, so a group of that number that still runs is
  // the run's, as long as no new process holds the number itself.
  if (presence({ ...handle.leader, start: undefined }) === 'gone' && groupRuns(handle.pgid))
    return {
      state: 'running',
      detail: `process group ${handle.pgid} is running (its first process has exited)`,
    };
  return { state: 'ended', detail: `process group ${handle.pgid} has exited` };
}

/** A mark as newRunMark makes it: the run id, then 16 hex digits; nothing shorter matches a stranger. */
const MARK = /^(?:[A-Za-z0-9._-]{1,128}-)?[0-9a-f]{16}$/;

function readProcessGroup(value: Record<string, unknown>): GroupHandle | undefined {
  const { pgid, graceMs, mark, cgroup, leader } = value;
  if (!isPid(pgid) || typeof mark !== 'string' || !MARK.test(mark)) return undefined;
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) return undefined;
  const named = readIdentity(leader);
  if (named === undefined || named.pid !== pgid) return undefined;
  if (cgroup !== undefined && !isCgroupDir(cgroup)) return undefined;
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
