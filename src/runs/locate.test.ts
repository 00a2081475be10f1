import { symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { UsageError } from '../errors.js';
import { writeDetachedEntry } from './detached-entry.js';
import { findRuns } from './list.js';
import { locateRun } from './locate.js';
import { recordOf, writeRecord } from './test-records.js';

const tree = treeForEachTest();
const env = {};

describe('locating a run', () => {
  it('takes a run dir, the model file that staged it, or its id under ./simulations', async () => {
    const dir = writeRecord(
      recordOf({ run_id: 'wave', staging_dir: tree.path('simulations', 'wave') }),
    );
    tree.write('model.yml', 'run_id: wave\ncommand: "true"\n');
    const cwd = tree.root;
    for (const given of ['simulations/wave', dir, 'model.yml', 'wave'])
      expect((await locateRun(given, { cwd, env })).dir).toBe(dir);
  });

  it.each([
    ['the same run', '2026-11-30T10:00:00.000Z', '812'],
    ['an earlier run of the dir', '2026-11-29T10:00:00.000Z', '999'],
  ])(
    "takes a detached run's handle from the entry kept at detach, not from a record its model rewrote, when the entry is of %s",
    async (_which, keptStart, expected) => {
      const stateEnv = { XDG_STATE_HOME: tree.path('state') };
      const dir = writeRecord(
        recordOf({
          run_id: 'wave',
          staging_dir: tree.path('simulations', 'wave'),
          backend: { type: 'slurm', config: { type: 'slurm' } },
          handle: { kind: 'slurm-job', id: '999' },
        }),
      );
      await writeDetachedEntry(stateEnv, {
        run_dir: dir,
        run_id: 'wave',
        started_at: keptStart,
        backend: 'slurm',
        handle: { kind: 'slurm-job', id: '812' },
        files: { model: tree.path('model.yml'), postprocessors: [] },
      });
      const found = await locateRun(dir, { cwd: tree.root, env: stateEnv });
      expect(found.record.handle).toEqual({ kind: 'slurm-job', id: expected });
    },
  );

  it.each([
    ['', 'the run is empty'],
    [
      'nothing-here',
      'no run nothing-here in ./simulations, and no file or folder nothing-here here',
    ],
    ['../elsewhere/x', '../elsewhere/x does not exist'],
    ['empty', 'empty holds no run record (.modelrun/run.json)'],
    ['model.yml', 'the run of model.yml'],
  ])('says which rule it tried for %j', async (given, message) => {
    tree.write('empty/keep', '');
    tree.write('model.yml', 'run_id: never-ran\ncommand: "true"\n');
    const error = await locateRun(given, { cwd: tree.root, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(message);
    expect((error as UsageError).hint).toContain('modelrun runs');
  });

  it('fails on an invalid model file as validate does, with its errors', async () => {
    tree.write('model.yml', 'run_id: [nope]\n');
    await expect(locateRun('model.yml', { cwd: tree.root, env })).rejects.toThrow(
      'model file model.yml is not valid',
    );
  });
});

describe('listing runs', () => {
  it('finds runs two levels down, newest first, without entering a run or following links', async () => {
    const older = writeRecord(recordOf({ run_id: 'a', staging_dir: tree.path('sims', 'a') }));
    const newer = writeRecord(
      recordOf({
        run_id: 'b',
        started_at: '2026-11-30T11:00:00.000Z',
        staging_dir: tree.path('sims', 'ens', 'b'),
      }),
    );
    // A run inside a run (a model's output that copies a run) is the outer run's business.
    writeRecord(recordOf({ run_id: 'inner', staging_dir: tree.path('sims', 'a', 'out', 'inner') }));
    writeRecord(recordOf({ run_id: 'deep', staging_dir: tree.path('sims', 'x', 'y', 'deep') }));
    writeRecord(recordOf({ run_id: 'linked', staging_dir: tree.path('other', 'linked') }));
    symlinkSync(tree.path('other'), tree.path('sims', 'link'));
    writeFileSync(tree.path('sims', 'stray.txt'), '');
    const runs = await findRuns([tree.path('sims'), tree.path('sims')]);
    expect(runs.map((r) => r.dir)).toEqual([newer, older]);
  });

  it('finds nothing in a folder that does not exist', async () => {
    expect(await findRuns([tree.path('none')])).toEqual([]);
  });

  it('says which run dirs hold a run.json it cannot read, and lists the others', async () => {
    writeRecord(recordOf({ run_id: 'good', staging_dir: tree.path('sims', 'good') }));
    tree.write('sims/bad/.modelrun/run.json', '{"run_id": "bad", "stag');
    tree.write('sims/bad/out/.modelrun/run.json', '{}');
    const unreadable: string[] = [];
    const runs = await findRuns([tree.path('sims')], (dir) => unreadable.push(dir));
    expect(runs.map((run) => run.record.run_id)).toEqual(['good']);
    // Told once; and what is inside a run dir (its outputs) is not searched.
    expect(unreadable).toEqual([tree.path('sims', 'bad')]);
  });
});
