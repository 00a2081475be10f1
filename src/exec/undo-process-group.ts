import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRunCgroup } from './cgroup.js';
import { signalEscaped, stopEscaped } from './escaped-processes.js';
import type { ProcessGroupTask } from './guard.js';
import { groupAlive, signalGroup } from './process-group.js';
import { presence } from './process-identity.js';

/**
 * The guardian's half of a process group: stops the model's group and, at
 * the same pace, what left it: both get SIGTERM at once and SIGKILL when
 * the grace time is over.
 */
export async function stopAbandonedGroup(task: ProcessGroupTask): Promise<void> {
  const { pgid, graceMs, mark } = task;
  // Only a folder the process runner made: the task names no other.
  const cgroup =
    task.cgroup !== undefined && basename(task.cgroup).startsWith('modelrun-')
      ? openRunCgroup(task.cgroup)
      : undefined;
  const killAt = Date.now() + graceMs;
  const escapees = { exceptGroup: pgid, cgroup };
  const termed = mark === undefined ? [] : signalEscaped(mark, 'SIGTERM', escapees);
  // A group with no mark (a launcher helper's) is known by its leader alone:
  // once that has gone, its number may be another group's.
  const known =
    mark !== undefined || task.leader === undefined || presence(task.leader) === 'alive';
  if (pgid !== undefined && known && groupAlive(pgid)) {
    signalGroup(pgid, 'SIGTERM');
    while (groupAlive(pgid) && Date.now() < killAt) await sleep(100);
    signalGroup(pgid, 'SIGKILL');
  }
  if (mark !== undefined) await stopEscaped(mark, { ...escapees, killAt, termed });
  await cgroup?.dispose();
}
