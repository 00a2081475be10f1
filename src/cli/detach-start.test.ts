import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fakeContext } from '../../test/helpers/command-context.js';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { findBackend } from '../backends/registry.js';
import { identify } from '../exec/process-identity.js';
import { ENSEMBLE_RECORD, totalsOf } from '../model/ensemble-record.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { untilOwned } from './ensemble-detach.js';
import { untilStarted } from './run-detach.js';

const tree = treeForEachTest({ 'run/.modelrun/': '', 'supervisor.log': '' });

/** This process, standing in for the supervisor: the record's owner. */
const supervisor = identify(process.pid);

/** The supervisor's run.json at a stage of its run. */
function writeRecord(fields: Record<string, unknown>): void {
  writeFileSync(
    tree.path('run', RUN_RECORD_PATH),
    JSON.stringify({
      run_id: 'quick',
      started_at: new Date().toISOString(),
      backend: { type: 'local', config: {} },
      owner: { ...supervisor, by: 'cli' },
      ...fields,
    }),
  );
}

/**
 * untilStarted on the tree's run dir and supervisor log, `alive` standing in
 * for /proc, taking the handles a local run could have.
 */
function waitForStart(alive: () => boolean) {
  if (supervisor === undefined) throw new Error('no /proc to identify this process by');
  const local = findBackend('local');
  return untilStarted(
    tree.path('run'),
    supervisor,
    tree.path('supervisor.log'),
    fakeContext(tree.root).ctx,
    { readable: (handle) => local?.handle.readable(handle) === true, alive },
  );
}

/** A process-group handle as a local run has one. */
const GROUP = {
  kind: 'process-group',
  pgid: 4242,
  graceMs: 10000,
  mark: 'quick-0123456789abcdef',
  leader: { pid: 4242, host: 'node1', start: 1234 },
};

describe('untilStarted (run --detach waiting for the model to start)', () => {
  it('takes a run that started, ended and took its supervisor along between two looks as started', async () => {
    writeRecord({ status: 'staging', stages: { run: { status: 'pending' } } });
    // At the first look the supervisor has just written its final record and gone.
    const alive = () => {
      writeRecord({
        status: 'succeeded',
        exit_code: 0,
        stages: { run: { status: 'succeeded' } },
        handle: GROUP,
      });
      return false;
    };
    const started = await waitForStart(alive);
    expect(started).toEqual({ kind: 'started', handle: GROUP });
  });

  it('takes the handle the supervisor reported beside its log, with no record where the run was staged', async () => {
    // The model moved its run dir away, record and all.
    writeFileSync(tree.path('supervisor.log.started'), JSON.stringify({ handle: GROUP }));
    const started = await waitForStart(() => true);
    expect(started).toEqual({ kind: 'started', handle: GROUP });
  });

  // On the old code run --detach printed such a handle, control characters and all.
  it('ignores a handle beside the log that the backend could not have written (a model can write there)', async () => {
    writeFileSync(
      tree.path('supervisor.log.started'),
      JSON.stringify({ handle: { kind: 'process-group', pgid: '1\u001b[2J (kill -9 -1)' } }),
    );
    expect(await waitForStart(() => false)).toEqual({ kind: 'exited' });
  });

  it('gives a supervisor that went before its run had a handle as exited, with the record it left', async () => {
    writeRecord({ status: 'staging', stages: { run: { status: 'pending' } } });
    const started = await waitForStart(() => false);
    expect(started).toMatchObject({ kind: 'exited', record: { status: 'staging' } });
  });
});

describe('untilOwned (ensemble --detach waiting for its supervisor to take the ensemble)', () => {
  it('takes an ensemble that was started, ended and took its supervisor along between two looks as started', async () => {
    if (supervisor === undefined) throw new Error('no /proc to identify this process by');
    const alive = () => {
      writeFileSync(
        tree.path('run', ENSEMBLE_RECORD),
        JSON.stringify({
          ensemble_id: 'quick',
          file: tree.path('quick.yml'),
          dir: tree.path('run'),
          status: 'succeeded',
          started_at: new Date().toISOString(),
          ended_at: new Date().toISOString(),
          duration_s: 0,
          backend: { type: 'local' },
          max_parallel: 1,
          fail_fast: false,
          totals: totalsOf([]),
          owner: { ...supervisor, by: 'cli' },
          members: [],
          aggregate: [],
          modelrun_version: '0.0.0',
        }),
      );
      return false;
    };
    expect(
      await untilOwned(tree.path('run'), supervisor, new AbortController().signal, alive),
    ).toBe(true);
  });

  it('gives false for a supervisor that went before it wrote a record', async () => {
    if (supervisor === undefined) throw new Error('no /proc to identify this process by');
    expect(
      await untilOwned(tree.path('run'), supervisor, new AbortController().signal, () => false),
    ).toBe(false);
  });
});
