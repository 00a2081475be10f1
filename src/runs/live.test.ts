import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isRunning,
  killedAfterEach,
  waitFor,
  waitUntilGone,
} from '../../test/helpers/processes.js';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { MARK_VARIABLE, newRunMark } from '../exec/escaped-processes.js';
import type { ProcessGroupTask } from '../exec/guard.js';
import { identify } from '../exec/process-identity.js';
import type { RunOwner } from '../model/run-record.js';
import { cancelRun } from './cancel.js';
import { viewRun } from './live.js';
import type { FoundRun } from './locate.js';
import { recordOf, writeRecord } from './test-records.js';

const tree = treeForEachTest();
const started = killedAfterEach();

/**
 * A model's process group as a local run starts it, and its handle. It
 * waits for a line on stdin before `script`, so that it is named while it
 * surely runs, whatever the script does next.
 */
function model(script = 'sleep 30'): { child: ChildProcess; handle: ProcessGroupTask } {
  // The mark names the run dir that orphaned() writes the record into.
  mkdirSync(tree.path('r1'), { recursive: true });
  const mark = newRunMark('r1', tree.path('r1'));
  const child = spawn('/bin/sh', ['-c', `read _; ${script}`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '', [MARK_VARIABLE]: mark },
  });
  started.push(child);
  const pid = child.pid ?? 0;
  const leader = identify(pid);
  if (leader === undefined) throw new Error('the model did not start');
  child.stdin?.end('go\n');
  return { child, handle: { kind: 'process-group', pgid: pid, graceMs: 500, mark, leader } };
}

/** The owner of a run whose modelrun has gone: a process that has exited. */
async function goneOwner(): Promise<RunOwner> {
  const child = spawn('/bin/sh', ['-c', 'exit 0']);
  const named = identify(child.pid ?? 0);
  await new Promise((resolve) => child.once('exit', resolve));
  return { pid: child.pid ?? 0, host: hostname(), start: named?.start ?? 0, by: 'cli' };
}

/** Resolves once the child has exited, by itself or by a signal. */
const exited = (child: ChildProcess) =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve(undefined)
      : child.once('exit', resolve),
  );

/** The run.json, written, of a run whose modelrun has gone, with `handle`: the run as `viewRun` and `cancelRun` find it. */
async function orphaned(handle: ProcessGroupTask): Promise<FoundRun> {
  const record = recordOf({
    staging_dir: tree.path('r1'),
    handle: { ...handle },
    owner: await goneOwner(),
  });
  return { dir: writeRecord(record), record };
}

/** The pid a model wrote into `file` of the tree, once it has. */
async function pidIn(file: string): Promise<number> {
  await waitFor(() => existsSync(tree.path(file)), 5000);
  return Number(readFileSync(tree.path(file), 'utf8'));
}

describe('a run whose modelrun has gone', () => {
  it('is reported running while its model runs, and nothing on record changes', async () => {
    const { handle } = model();
    const view = await viewRun(await orphaned(handle), {});
    expect(view).toMatchObject({ owner: 'gone', live: { state: 'running' } });
    expect(view.reconciled).toBeUndefined();
  });

  it('is marked failed once its model has ended, with the reason, and its stages closed', async () => {
    const { child, handle } = model('exit 3');
    await exited(child);
    const found = await orphaned(handle);
    const view = await viewRun(found, {});
    expect(view.reconciled).toMatch(
      /^modelrun \(pid \d+ on .*\), which ran it, has gone; process group \d+ has exited$/,
    );
    expect(view.record).toMatchObject({
      status: 'failed',
      stages: { run: { status: 'failed' }, postprocess: { status: 'skipped' } },
    });
    // Once only: the record now says it ended.
    const again = await viewRun({ dir: found.dir, record: view.record }, {});
    expect(again.reconciled).toBeUndefined();
  });

  it('is left alone while its modelrun still follows it', async () => {
    const { child, handle } = model('exit 0');
    await exited(child);
    const self = identify(process.pid);
    const record = recordOf({
      staging_dir: tree.path('r1'),
      handle: { ...handle },
      ...(self === undefined ? {} : { owner: { ...self, by: 'library' as const } }),
    });
    writeRecord(record);
    const view = await viewRun({ dir: record.staging_dir, record }, {});
    expect(view).toMatchObject({
      owner: 'alive',
      live: { state: 'ended' },
      record: { status: 'running' },
    });
  });

  it('that has ended unseen is found ended by cancel, which leaves no request for a wait to find', async () => {
    const { child, handle } = model('exit 0');
    await exited(child);
    const found = await orphaned(handle);
    const folder = join(found.dir, '.modelrun');
    const seen: string[] = [];
    const watcher = watch(folder, (_event, name) => seen.push(String(name)));
    try {
      const result = await cancelRun(found, { env: {}, status: () => {} });
      expect(result.outcome).toBe('ended');
      // Events come in order, a moment after the change: once this file's has come, any earlier one has.
      writeFileSync(join(folder, 'sentinel'), '');
      expect(await waitFor(() => seen.includes('sentinel'), 5000)).toBe(true);
      expect(seen).not.toContain('cancel-request');
    } finally {
      watcher.close();
    }
  });

  it('is cancelled through its handle: the model group stopped, the record cancelled', async () => {
    const { child, handle } = model(
      `trap "" TERM; sleep 30 & echo $! > ${tree.path('sleep.pid')}; wait`,
    );
    const sleeper = await pidIn('sleep.pid');
    const found = await orphaned(handle);
    const result = await cancelRun(found, { env: {}, status: () => {} });
    await exited(child);
    // SIGTERM ignored: it took the SIGKILL after the grace.
    expect(await waitUntilGone(sleeper)).toBe(true);
    expect(result).toMatchObject({
      outcome: 'cancelled',
      how: 'stopped through its handle (process-group)',
    });
    expect(result.record).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled with `modelrun cancel`',
      stages: { run: { status: 'cancelled' } },
    });
  });

  it('says a run that had ended has, and touches nothing', async () => {
    const record = recordOf({ staging_dir: tree.path('r1'), status: 'succeeded' });
    writeRecord(record);
    expect(
      await cancelRun({ dir: record.staging_dir, record }, { env: {}, status: () => {} }),
    ).toMatchObject({ outcome: 'ended' });
  });

  it('signals no process that a forged owner names, and no group whose first process lacks the run mark', async () => {
    // An unrelated process of the user, named exactly: the owner of one record, the group leader of another.
    const stranger = spawn('/bin/sh', ['-c', 'read _; sleep 30'], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    started.push(stranger);
    const named = identify(stranger.pid ?? 0);
    if (named === undefined) throw new Error('no stranger');
    const forgedOwner = recordOf({ staging_dir: tree.path('a'), owner: { ...named, by: 'cli' } });
    writeRecord(forgedOwner);
    const first = await cancelRun(
      { dir: forgedOwner.staging_dir, record: forgedOwner },
      { env: {}, status: () => {}, ownerStopMs: 300 },
    );
    expect(first).toMatchObject({ outcome: 'cancelled', how: 'nothing of it had started' });
    const forgedLeader = recordOf({
      staging_dir: tree.path('b'),
      handle: {
        kind: 'process-group',
        pgid: named.pid,
        graceMs: 100,
        mark: newRunMark('b', tree.path('b')),
        leader: named,
      },
      owner: await goneOwner(),
    });
    writeRecord(forgedLeader);
    await cancelRun(
      { dir: forgedLeader.staging_dir, record: forgedLeader },
      { env: {}, status: () => {} },
    );
    expect(isRunning(stranger.pid ?? 0)).toBe(true);
    stranger.stdin?.end();
  });

  it('reads a group of an earlier boot as ended, whatever now has its number', async () => {
    const { handle } = model();
    const leader = handle.leader;
    if (leader === undefined) throw new Error('no leader');
    const view = await viewRun(
      await orphaned({ ...handle, leader: { ...leader, boot_id: 'an-earlier-boot' } }),
      {},
    );
    expect(view.reconciled).toMatch(/the machine has restarted since/);
  });

  it('counts a run as running while a process it started outside its group still runs', async () => {
    const { child, handle } = model(`setsid sleep 30 & echo $! > ${tree.path('escaped.pid')}`);
    await exited(child);
    const escaped = await pidIn('escaped.pid');
    const found = await orphaned(handle);
    expect((await viewRun(found, {})).live?.state).toBe('running');
    await cancelRun(found, { env: {}, status: () => {} });
    expect(await waitUntilGone(escaped)).toBe(true);
  });
});
