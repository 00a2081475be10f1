// The guardian: a process of its own that undoes what a run started when
// modelrun dies before it could (see client.ts). It reads JSON lines on
// stdin; at "done" it exits, and when stdin closes without one, it undoes
// every task still registered.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeAbandonedEnvFile } from '../backends/containers/env-file.js';
import { ALREADY_DONE, engineAddress, engineRequest } from '../backends/docker/engine.js';
import { openRunCgroup } from '../exec/cgroup.js';
import { signalEscaped, stopEscaped } from '../exec/escaped-processes.js';
import { groupAlive, signalGroup } from '../exec/process-group.js';
import { failUnfinishedRecord } from '../model/run-record.js';
import { releaseAbandonedLock } from '../model/staging-lock-files.js';
import type { GuardMessage, GuardTask, JobContainers } from './tasks.js';

const tasks = new Map<number, GuardTask>();
let done = false;

// Signals meant for modelrun (its terminal, its process group) are not ours.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on('line', (line) => {
  let message: GuardMessage;
  try {
    message = JSON.parse(line) as GuardMessage;
  } catch {
    return;
  }
  if (message.op === 'add') tasks.set(message.key, message.task);
  else if (message.op === 'remove') tasks.delete(message.key);
  else done = true;
});
lines.on('close', () => {
  if (done) process.exit(0);
  void undoAll(Date.now()).then(() => process.exit(0));
});

/**
 * Stops what runs first; only then says so in the run records. The env
 * files and then the staging locks go last, and only when everything was
 * stopped: a job that could not be cancelled may still start and read its
 * secrets, and a run that starts into the same staging dir must find
 * nothing of the dead one still at work.
 */
async function undoAll(diedAt: number): Promise<void> {
  const all = [...tasks.values()];
  const undoEach = (...kinds: GuardTask['kind'][]) =>
    Promise.allSettled(all.filter((t) => kinds.includes(t.kind)).map((task) => undo(task, diedAt)));
  const stopped = await undoEach('process-group', 'docker-container', 'slurm-job');
  await undoEach('run-record');
  if (stopped.some((outcome) => outcome.status === 'rejected')) return;
  await undoEach('secret-file');
  await undoEach('staging-lock');
}

async function undo(task: GuardTask, diedAt: number): Promise<void> {
  if (task.kind === 'staging-lock') await releaseAbandonedLock(task.stagingDir, diedAt, task.pid);
  else if (task.kind === 'process-group') await stopGroup(task);
  else if (task.kind === 'docker-container') await stopContainer(task);
  else if (task.kind === 'slurm-job') await cancelJob(task);
  else if (task.kind === 'secret-file') await removeAbandonedEnvFile(task, diedAt);
  else
    await failUnfinishedRecord(
      task.path,
      'modelrun ended before the run did (killed?); its guardian stopped what the run had started',
    );
}

/**
 * Stops the model's group and, at the same pace, what left it: both get
 * SIGTERM at once and SIGKILL when the grace time is over.
 */
async function stopGroup(task: Extract<GuardTask, { kind: 'process-group' }>): Promise<void> {
  const { pgid, graceMs, mark } = task;
  // Only a folder the process runner made: the task names no other.
  const cgroup =
    task.cgroup !== undefined && basename(task.cgroup).startsWith('modelrun-')
      ? openRunCgroup(task.cgroup)
      : undefined;
  const killAt = Date.now() + graceMs;
  const escapees = { exceptGroup: pgid, cgroup };
  const termed = mark === undefined ? [] : signalEscaped(mark, 'SIGTERM', escapees);
  if (pgid !== undefined && groupAlive(pgid)) {
    signalGroup(pgid, 'SIGTERM');
    while (groupAlive(pgid) && Date.now() < killAt) await sleep(100);
    signalGroup(pgid, 'SIGKILL');
  }
  if (mark !== undefined) await stopEscaped(mark, { ...escapees, killAt, termed });
  await cgroup?.dispose();
}

async function stopContainer(task: Extract<GuardTask, { kind: 'docker-container' }>) {
  const address = engineAddress({ ...process.env, DOCKER_HOST: task.engine });
  const path = task.remove
    ? `/containers/${task.id}?force=true&v=true`
    : `/containers/${task.id}/kill`;
  const { status, body } = await engineRequest(
    address,
    task.remove ? 'DELETE' : 'POST',
    path,
    30_000,
  );
  if (status >= 300 && !ALREADY_DONE.includes(status))
    throw new Error(`the engine answered ${status}: ${body.trim()}`);
}

/**
 * Cancels the job; then, for a job that runs a docker container, waits
 * until the job has ended (its script stops the container on Slurm's TERM)
 * and removes what is left. The sweep reaches only the engine modelrun
 * would use, which is the node's on a one-node cluster or with a shared
 * DOCKER_HOST; it is a second line, so its failure does not count.
 */
async function cancelJob(task: Extract<GuardTask, { kind: 'slurm-job' }>): Promise<void> {
  await scancel(task.id);
  if (task.containers === undefined) return;
  for (let waited = 0; waited < JOB_END_WAIT_MS && (await jobQueued(task.id)); waited += 500)
    await sleep(500);
  await removeContainers(task.containers).catch(() => undefined);
}

/** Long enough for Slurm's KillWait (30 s by default) to run out after a cancel. */
const JOB_END_WAIT_MS = 60_000;

/** Whether squeue still shows the job (pending, running or completing). */
function jobQueued(id: string): Promise<boolean> {
  return new Promise((resolve) =>
    execFile('squeue', ['-h', '-j', id, '-o', '%T'], (error, stdout) =>
      resolve(error === null && stdout.trim() !== ''),
    ),
  );
}

async function removeContainers(containers: JobContainers): Promise<void> {
  const address = engineAddress({ ...process.env, DOCKER_HOST: containers.engine });
  const filters = encodeURIComponent(JSON.stringify({ label: [containers.label] }));
  const listed = await engineRequest(
    address,
    'GET',
    `/containers/json?all=true&filters=${filters}`,
    10_000,
  );
  if (listed.status !== 200) return;
  for (const { Id } of JSON.parse(listed.body) as { Id: string }[])
    await stopContainer({
      kind: 'docker-container',
      id: Id,
      engine: containers.engine,
      remove: containers.remove,
    });
}

/** Cancels a job; an id Slurm no longer knows counts as gone. */
function scancel(id: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('scancel', [id], (error, _stdout, stderr) => {
      if (error === null || /Invalid job id/i.test(stderr)) resolve();
      else reject(new Error(stderr.trim() || error.message));
    }),
  );
}
