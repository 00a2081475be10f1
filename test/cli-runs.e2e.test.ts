import { cpSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_PATH } from '../src/model/staging-lock-files.js';
import { runInProcess, runModelrun, startModelrun } from './helpers/cli.js';
import { guardianOf, waitUntilGone } from './helpers/processes.js';
import { readRunRecord, waitForHandle, writeForged } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';

/**
 * A run started in one shell, looked at, followed and stopped from others:
 * `status`, `logs`, `cancel` and `runs` against real local runs.
 */
const tree = treeForEachTest({
  'slow.yml':
    'run_id: slow\ncommand: "echo started; echo oops >&2; i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo tick $i; sleep 0.1; done"\n',
  'quick.yml': 'run_id: quick\ncommand: "echo one; echo two; echo three; exit 3"\n',
});

const stagingDir = (runId: string) => tree.path('simulations', runId);

describe('a run looked at from another shell', () => {
  it('shows its status, logs and handle while it runs, and is stopped by cancel', async () => {
    const { exited } = await startModelrun(['run', 'slow.yml'], { cwd: tree.root });
    await waitForHandle(stagingDir('slow'));
    const status = await runInProcess(['status', 'slow', '--json'], { cwd: tree.root });
    expect(status.code).toBe(0);
    const view = JSON.parse(status.stdout);
    expect(view).toMatchObject({
      owner: 'alive',
      live: { state: 'running' },
      record: { status: 'running', handle: { kind: 'process-group' }, owner: { by: 'cli' } },
    });
    const modelPid: number = view.record.handle.pgid;
    const logs = await runInProcess(['logs', 'slow.yml', '--stderr'], { cwd: tree.root });
    expect(logs.stdout).toBe('oops\n');

    const cancelled = await runModelrun(['cancel', 'slow'], { cwd: tree.root });
    expect(cancelled).toMatchObject({ code: 0 });
    expect(cancelled.stdout).toMatch(/^cancelled slow: modelrun \(pid \d+\) stopped it\n$/);
    // The run's own modelrun stopped it, cleaned up, and said so: a run that did not succeed exits 1.
    expect(await exited).toBe(1);
    expect(await waitUntilGone(modelPid)).toBe(true);
    expect(readRunRecord(stagingDir('slow'))).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled with `modelrun cancel`',
    });

    const after = await runModelrun(['cancel', 'slow'], { cwd: tree.root });
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('slow had already ended: cancelled');
    expect((await runInProcess(['status', 'slow'], { cwd: tree.root })).code).toBe(1);
  }, 30_000);

  it('leaves alone the run of the folder a run dir was copied from, when cancelled in the copy', async () => {
    const { exited } = await startModelrun(['run', 'slow.yml'], { cwd: tree.root });
    await waitForHandle(stagingDir('slow'));
    cpSync(stagingDir('slow'), stagingDir('copy'), { recursive: true });
    const inCopy = await runModelrun(['cancel', 'simulations/copy'], { cwd: tree.root });
    expect(inCopy.code).toBe(1);
    expect(inCopy.stderr).toContain(
      `${stagingDir('copy')} holds the record of another folder's run: process group`,
    );
    expect(inCopy.stdout).not.toContain('asked modelrun');
    const status = JSON.parse(
      (await runInProcess(['status', 'slow', '--json'], { cwd: tree.root })).stdout,
    );
    expect(status).toMatchObject({ live: { state: 'running' }, record: { status: 'running' } });

    expect((await runModelrun(['cancel', 'slow'], { cwd: tree.root })).code).toBe(0);
    expect(await exited).toBe(1);
    // Once nothing of that run is left, the copy's record, which names it, is put right.
    const copy = await runInProcess(['status', 'simulations/copy', '--json'], { cwd: tree.root });
    expect(JSON.parse(copy.stdout)).toMatchObject({
      live: { state: 'ended' },
      record: { status: 'failed' },
    });
  }, 30_000);

  it('follows the logs to the end of the run with -f, and prints the last lines with --tail', async () => {
    tree.write(
      'count.yml',
      'run_id: count\ncommand: "echo started; for i in 1 2 3 4 5; do echo $i; sleep 0.2; done"\n',
    );
    const { exited } = await startModelrun(['run', 'count.yml'], { cwd: tree.root });
    const followed = await runModelrun(['logs', '-f', 'count'], { cwd: tree.root });
    expect(followed).toMatchObject({ code: 0, stdout: 'started\n1\n2\n3\n4\n5\n' });
    expect(await exited).toBe(0);
    const tail = await runInProcess(['logs', 'count', '--tail', '2'], { cwd: tree.root });
    expect(tail.stdout).toBe('4\n5\n');
    const json = await runInProcess(['logs', 'count', '--tail', '2', '--json'], { cwd: tree.root });
    expect(JSON.parse(json.stdout)).toEqual({
      run_dir: stagingDir('count'),
      run_id: 'count',
      stream: 'stdout',
      path: join(stagingDir('count'), 'logs', 'stdout.log'),
      text: '4\n5\n',
    });
    // Bytes that are not UTF-8 come whole, in base64.
    writeFileSync(
      join(stagingDir('count'), 'logs', 'stdout.log'),
      Buffer.from([0x6f, 0x6b, 0xff, 0xfe]),
    );
    const raw = await runInProcess(['logs', 'count', '--json'], { cwd: tree.root });
    expect(JSON.parse(raw.stdout)).toMatchObject({
      base64: Buffer.from([0x6f, 0x6b, 0xff, 0xfe]).toString('base64'),
    });
    const both = await runInProcess(['logs', 'count', '-f', '--json'], { cwd: tree.root });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json prints the log once, so it does not go with -f');
  }, 30_000);

  it("takes a pipeline file for its model's run", async () => {
    tree.write('quick-pipeline.yml', 'model: quick.yml\nbackend: {type: local}\n');
    const { exited } = await startModelrun(['run', 'quick.yml'], { cwd: tree.root, marker: 'one' });
    await exited;
    const status = await runInProcess(['status', 'quick-pipeline.yml', '--json'], {
      cwd: tree.root,
    });
    expect(status.code, status.stderr).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({
      run_dir: stagingDir('quick'),
      record: { run_id: 'quick', status: 'failed' },
    });
  });

  it('waits with --json: the record on stdout once the run has ended, the output on stderr', async () => {
    const { exited } = await startModelrun(['run', 'quick.yml'], { cwd: tree.root, marker: 'one' });
    const waited = await runModelrun(['wait', 'quick', '--json'], { cwd: tree.root });
    expect(waited.code).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      run_id: 'quick',
      status: 'failed',
      exit_code: 3,
    });
    expect(await exited).toBe(1);
  }, 30_000);

  /** Starts `runId`'s run, then kills its modelrun and guardian alike (a node that rebooted, an OOM kill of both), and waits for its model to end. */
  async function orphaned(runId: string): Promise<void> {
    tree.write(`${runId}.yml`, `run_id: ${runId}\ncommand: "echo started; sleep 2; exit 4"\n`);
    const { child } = await startModelrun(['run', `${runId}.yml`], { cwd: tree.root });
    const record = (await waitForHandle(stagingDir(runId))) as { handle: { pgid: number } };
    process.kill(guardianOf(child.pid ?? 0), 'SIGKILL');
    child.kill('SIGKILL');
    expect(await waitUntilGone(record.handle.pgid, 10_000)).toBe(true);
  }

  it('is put right on record once its modelrun and guardian were killed and its model ended', async () => {
    await orphaned('short');
    // runs lists it as the record says, and --refresh puts it right.
    const listed = JSON.parse((await runInProcess(['runs', '--json'], { cwd: tree.root })).stdout);
    expect(listed).toMatchObject([{ run_id: 'short', status: 'running' }]);
    const refreshed = await runInProcess(['runs', '--refresh'], { cwd: tree.root });
    expect(refreshed.stderr).toMatch(
      /short: marked failed: modelrun \(pid \d+ on .*\), which ran it, has gone/,
    );
    expect(refreshed.stdout).toMatch(/short +failed/);
    const status = await runInProcess(['status', 'short.yml'], { cwd: tree.root });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/status +failed/);
    expect(status.stdout).toMatch(
      /reason +modelrun \(pid \d+ on .*\), which ran it, has gone; process group \d+ has exited/,
    );
    expect(readRunRecord(stagingDir('short'))).toMatchObject({ status: 'failed' });
  }, 30_000);

  it('keeps a run whose modelrun and guardian were killed from being staged over while its model runs', async () => {
    tree.write('orphan.yml', 'run_id: orphan\ncommand: "echo started; sleep 60"\n');
    const { child } = await startModelrun(['run', 'orphan.yml'], { cwd: tree.root });
    const record = (await waitForHandle(stagingDir('orphan'))) as { handle: { pgid: number } };
    process.kill(guardianOf(child.pid ?? 0), 'SIGKILL');
    child.kill('SIGKILL');
    await waitUntilGone(child.pid ?? 0);
    // Its staging lock as it is 15 s on, stale, which a new run takes over.
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(stagingDir('orphan'), LOCK_PATH), past, past);
    const again = await runInProcess(['run', 'orphan.yml'], { cwd: tree.root });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /holds run orphan, which has not ended \(process \d+ is running\)/,
    );
    expect(readRunRecord(stagingDir('orphan'))).toMatchObject({ status: 'running' });
    expect((await runModelrun(['cancel', 'orphan'], { cwd: tree.root })).code).toBe(0);
    expect(await waitUntilGone(record.handle.pgid)).toBe(true);
    // Once it has ended, a new run goes ahead.
    tree.write('orphan.yml', 'run_id: orphan\ncommand: "true"\n');
    expect((await runInProcess(['run', 'orphan.yml'], { cwd: tree.root })).code).toBe(0);
  }, 30_000);

  it('ends logs -f of a run whose modelrun was killed, asking the engine as status does', async () => {
    await orphaned('gone');
    const followed = await runModelrun(['logs', '-f', 'gone'], { cwd: tree.root });
    expect(followed).toMatchObject({ code: 0, stdout: 'started\n' });
    expect(readRunRecord(stagingDir('gone'))).toMatchObject({ status: 'failed' });
  }, 30_000);

  it('lists runs newest first, by status, as a table or JSON', async () => {
    expect((await runModelrun(['run', 'quick.yml'], { cwd: tree.root })).code).toBe(1);
    tree.write('ok.yml', 'run_id: ok\ncommand: "true"\n');
    expect((await runModelrun(['run', 'ok.yml'], { cwd: tree.root })).code).toBe(0);
    const all = JSON.parse((await runInProcess(['runs', '--json'], { cwd: tree.root })).stdout);
    expect(all.map((r: { run_id: string }) => r.run_id)).toEqual(['ok', 'quick']);
    expect(all[1]).toMatchObject({
      status: 'failed',
      exit_code: 3,
      backend: 'local',
      run_dir: stagingDir('quick'),
    });
    const failed = await runInProcess(['runs', 'simulations', '--status', 'failed'], {
      cwd: tree.root,
    });
    expect(failed.stdout.split('\n')[0]).toMatch(
      /^RUN ID +STATUS +BACKEND +STARTED +DURATION +EXIT +RUN DIR$/,
    );
    expect(failed.stdout).toContain('quick');
    expect(failed.stdout).not.toContain('ok ');
  }, 30_000);

  it.each([
    [['status', 'nope'], 'no run nope in ./simulations'],
    [['logs', 'quick', '--tail', 'ten'], '--tail ten is not a number of lines'],
    [['cancel', 'slow.yml'], 'the run of slow.yml'],
  ])('refuses %j as a usage error', async (args, message) => {
    const result = await runInProcess(args, { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('cancels a run of a program that uses the library, twice at once: the program records it cancelled', async () => {
    const { runModel } = await import('../src/index.js');
    tree.write('lib.yml', 'run_id: lib\ncommand: "echo started; sleep 30"\n');
    const running = runModel({ model: tree.path('lib.yml') });
    await waitForHandle(stagingDir('lib'));
    const both = await Promise.all([
      runModelrun(['cancel', 'lib'], { cwd: tree.root }),
      runModelrun(['cancel', 'lib'], { cwd: tree.root }),
    ]);
    expect(both.map((result) => result.code)).toEqual([0, 0]);
    expect(await running).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled with `modelrun cancel`',
    });
  }, 30_000);

  it('finds a run through a link to its folder, and says so of a folder that does not exist', async () => {
    expect((await runModelrun(['run', 'quick.yml'], { cwd: tree.root })).code).toBe(1);
    symlinkSync(stagingDir('quick'), tree.path('latest'));
    expect((await runInProcess(['status', 'latest'], { cwd: tree.root })).stdout).toMatch(
      /^run +quick$/m,
    );
    const missing = await runInProcess(['runs', 'no-such-folder'], { cwd: tree.root });
    expect(missing.stderr).toContain('no-such-folder does not exist');
    const tail = await runInProcess(['logs', 'quick', '--tail', '12345678901'], { cwd: tree.root });
    expect(tail).toMatchObject({ code: 0, stdout: 'one\ntwo\nthree\n' });
  });

  // Records of a shape modelrun never writes: read as no record, never a crash (exit 70).
  it.each([
    ['a backend type that is a number', { backend: { type: 5, config: {} } }],
    ['a start that is a number', { started_at: 12345 }],
    ['an owner that is null', { owner: null }],
    ['a stage that is null', { stages: { generate: null, run: { status: 'running' } } }],
    ['a handle that is null', { handle: null }],
    ['an exit code that is text', { exit_code: 'rm -rf' }],
  ])('takes a run.json with %s as no record', async (_name, fields) => {
    writeForged(tree.path('simulations', 'odd'), {
      run_id: 'odd',
      backend: { type: 'local', config: { type: 'local' } },
      ...fields,
    });
    for (const args of [
      ['status', 'simulations/odd'],
      ['cancel', 'simulations/odd'],
      ['logs', 'simulations/odd'],
    ]) {
      const result = await runInProcess(args, { cwd: tree.root });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no run record');
    }
    const listed = await runInProcess(['runs', '--refresh'], { cwd: tree.root });
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).not.toContain('odd');
  });

  it('ends a wait with exit 1 when the run it waits for is removed or replaced before its end', async () => {
    const self = { pid: process.pid, host: hostname(), by: 'library' };
    writeForged(tree.path('simulations', 'moving'), {
      run_id: 'moving',
      backend: { type: 'local', config: { type: 'local' } },
      owner: self,
    });
    // Removed once the wait has found the run, not after a fixed while: its start can take longer.
    const waiting = await startModelrun(['wait', 'moving'], {
      cwd: tree.root,
      marker: 'waiting for moving',
      markerOn: 'stderr',
    });
    expect(waiting.output().stderr).toContain('waiting for moving');
    rmSync(tree.path('simulations', 'moving'), { recursive: true });
    expect(await waiting.exited).toBe(1);
    expect(waiting.output().stderr).toContain('moving was replaced by a newer run');
  });
});
