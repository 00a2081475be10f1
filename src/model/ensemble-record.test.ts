import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { RunFailedError } from '../errors.js';
import {
  ENSEMBLE_RECORD,
  type EnsembleRecord,
  failUnfinishedEnsemble,
  type MemberEntry,
  type MemberStatus,
  readEnsembleRecord,
  readEnsembleRecordFile,
  totalsOf,
  writeEnsembleRecord,
} from './ensemble-record.js';

const STARTED = '2024-01-01T00:00:00.000Z';

function member(index: number, status: MemberStatus, more: Partial<MemberEntry> = {}): MemberEntry {
  const ran = status !== 'pending';
  return {
    index,
    replica: 0,
    run_id: `wave-${index}`,
    parameters: { 'config.depth_m': index * 5 },
    status,
    exit_code: status === 'succeeded' ? 0 : status === 'failed' ? 1 : null,
    started_at: ran ? STARTED : null,
    ended_at: ran && status !== 'running' ? '2024-01-01T00:00:05.000Z' : null,
    duration_s: ran && status !== 'running' ? 5 : null,
    run_dir: `/scratch/study/wave-${index}`,
    inputs: `sha256:${String(index).repeat(64)}`,
    ...more,
  };
}

function record(members: MemberEntry[], more: Partial<EnsembleRecord> = {}): EnsembleRecord {
  return {
    ensemble_id: 'study',
    file: '/work/study.yml',
    dir: '/scratch/study',
    status: 'running',
    started_at: STARTED,
    ended_at: null,
    duration_s: null,
    backend: { type: 'local' },
    max_parallel: 2,
    fail_fast: false,
    totals: totalsOf([]),
    members,
    aggregate: [],
    modelrun_version: '0.1.0',
    ...more,
  };
}

const zero = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };

describe('totalsOf', () => {
  it.each<[string, MemberStatus[], EnsembleRecord['totals']]>([
    ['no members', [], { members: 0, ...zero }],
    [
      'one of each status',
      ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'],
      {
        members: 6,
        pending: 1,
        running: 1,
        succeeded: 1,
        failed: 1,
        cancelled: 1,
        skipped: 1,
      },
    ],
    [
      'several of one status',
      ['succeeded', 'succeeded', 'failed'],
      {
        members: 3,
        ...zero,
        succeeded: 2,
        failed: 1,
      },
    ],
  ])('counts %s', (_, statuses, totals) => {
    expect(totalsOf(statuses.map((status, i) => member(i, status)))).toEqual(totals);
  });
});

describe('the ensemble record on disk', () => {
  const tree = treeForEachTest({ 'study/': '', 'outside/target.json': 'keep me\n' });
  const dir = () => tree.path('study');
  const file = () => tree.path('study', ENSEMBLE_RECORD);
  const onDisk = () => JSON.parse(readFileSync(file(), 'utf8')) as EnsembleRecord;

  describe('writeEnsembleRecord', () => {
    it('recomputes the totals from the members, whatever they said', async () => {
      const written = record([member(0, 'succeeded'), member(1, 'failed'), member(2, 'pending')], {
        totals: { members: 99, ...zero, succeeded: 99 },
      });
      await writeEnsembleRecord(dir(), written);
      const totals = { members: 3, ...zero, succeeded: 1, failed: 1, pending: 1 };
      expect(onDisk().totals).toEqual(totals);
      expect(written.totals).toEqual(totals);
    });

    it('writes indented JSON ending in a line break', async () => {
      await writeEnsembleRecord(dir(), record([member(0, 'pending')]));
      const text = readFileSync(file(), 'utf8');
      expect(text).toMatch(/^\{\n {2}"ensemble_id": "study",\n/);
      expect(text.endsWith('}\n')).toBe(true);
    });

    it('replaces the record it wrote before', async () => {
      await writeEnsembleRecord(dir(), record([member(0, 'running')]));
      await writeEnsembleRecord(dir(), record([member(0, 'succeeded')], { status: 'succeeded' }));
      expect(onDisk().status).toBe('succeeded');
      expect(onDisk().members[0]?.status).toBe('succeeded');
    });

    it("says what is in the way of the record, as no bug of modelrun's: a folder, or no ensemble folder", async () => {
      mkdirSync(join(dir(), ENSEMBLE_RECORD, 'x'), { recursive: true });
      await expect(writeEnsembleRecord(dir(), record([]))).rejects.toThrow(RunFailedError);
      await expect(writeEnsembleRecord(dir(), record([]))).rejects.toThrow(
        /a folder is in its place/,
      );
      await expect(writeEnsembleRecord(tree.path('gone'), record([]))).rejects.toThrow(
        /the ensemble's folder is gone/,
      );
    });

    it('leaves no temporary file behind', async () => {
      await writeEnsembleRecord(dir(), record([member(0, 'running')]));
      await writeEnsembleRecord(dir(), record([member(0, 'succeeded')]));
      expect(readdirSync(dir())).toEqual([ENSEMBLE_RECORD]);
    });

    it.each([
      ['an absolute link', () => tree.path('outside', 'target.json')],
      ['a relative link', () => '../outside/target.json'],
    ])('replaces %s at ensemble.json, never writing through it', async (_, target) => {
      symlinkSync(target(), file());
      await writeEnsembleRecord(dir(), record([member(0, 'running')]));
      expect(lstatSync(file()).isSymbolicLink()).toBe(false);
      expect(onDisk().ensemble_id).toBe('study');
      expect(readFileSync(tree.path('outside', 'target.json'), 'utf8')).toBe('keep me\n');
    });

    it('replaces a dangling link at ensemble.json, creating nothing where it pointed', async () => {
      symlinkSync(tree.path('outside', 'new.json'), file());
      await writeEnsembleRecord(dir(), record([member(0, 'running')]));
      expect(lstatSync(file()).isFile()).toBe(true);
      expect(readdirSync(tree.path('outside'))).toEqual(['target.json']);
    });
  });

  describe('readEnsembleRecord', () => {
    it('reads back what was written', async () => {
      const written = record(
        [
          member(0, 'succeeded', { handle: { kind: 'process-group', pgid: 1234 } }),
          member(1, 'failed', { reason: 'exited 1' }),
          member(2, 'skipped', { reason: 'not started: fail_fast' }),
        ],
        { overrides: ['config.seed=1'], fail_fast: true },
      );
      await writeEnsembleRecord(dir(), written);
      expect(await readEnsembleRecord(dir())).toEqual(written);
    });

    it('gives undefined when there is no record', async () => {
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });

    it('gives undefined when there is no folder', async () => {
      expect(await readEnsembleRecord(tree.path('nowhere'))).toBeUndefined();
    });

    it('gives undefined for a link, not reading its target', async () => {
      writeFileSync(tree.path('outside', 'target.json'), JSON.stringify(record([])));
      symlinkSync(tree.path('outside', 'target.json'), file());
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });

    // A read that waited on a writer would never end: the test's own limit is kept short.
    it('gives undefined for a FIFO, at once', { timeout: 5_000 }, async () => {
      execFileSync('mkfifo', [file()]);
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });

    it('gives undefined for a folder', async () => {
      mkdirSync(file());
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });

    it.each([
      ['empty', ''],
      ['invalid JSON', '{"ensemble_id": "study",'],
      ['half a record', `${JSON.stringify(record([member(0, 'running')]), null, 2).slice(0, 80)}`],
      ['JSON without members', JSON.stringify({ ensemble_id: 'study', status: 'running' })],
      ['members that are not a list', JSON.stringify({ ...record([]), members: { 0: {} } })],
      ['null', 'null'],
      ['a list', '[]'],
      ['a number', '42'],
      ['a string', '"members"'],
    ])('gives undefined for %s', async (_, text) => {
      writeFileSync(file(), text);
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });
  });

  describe('readEnsembleRecordFile', () => {
    /** A whole record written, then `change` made to it, as an edit or a member would. */
    const edited = (change: (value: Record<string, unknown>) => void) => {
      const value = JSON.parse(JSON.stringify(record([member(0, 'running')]))) as Record<
        string,
        unknown
      >;
      change(value);
      writeFileSync(file(), JSON.stringify(value));
    };

    it('gives the record of a whole one, and none where there is no file', async () => {
      expect(await readEnsembleRecordFile(dir())).toEqual({ kind: 'none' });
      await writeEnsembleRecord(dir(), record([member(0, 'succeeded')]));
      expect(await readEnsembleRecordFile(dir())).toMatchObject({ kind: 'record' });
    });

    // Each of these once reached `status` and failed there as a bug (exit 70), or read as no record.
    it.each<[string, (value: Record<string, unknown>) => void, string]>([
      ['without backend', (v) => delete v.backend, '`backend` is missing'],
      ['without totals', (v) => delete v.totals, '`totals` is missing'],
      ['with a backend of no type', (v) => (v.backend = {}), '`backend.type` is missing'],
      [
        'with totals of text',
        (v) => (v.totals = { ...(v.totals as object), failed: 'x' }),
        '`totals.failed` is not a whole number',
      ],
      ['without dir', (v) => delete v.dir, '`dir` is missing'],
      ['with a status of its own', (v) => (v.status = 'paused'), '`status` is none of'],
      ['with an owner of no pid', (v) => (v.owner = { host: 'h' }), '`owner.pid` is missing'],
      ['with a log that is a number', (v) => (v.log = 7), '`log` is not a string'],
      ['with aggregate not a list', (v) => (v.aggregate = {}), '`aggregate` is not a list'],
      [
        'with a member of no run id',
        (v) => delete (v.members as Record<string, unknown>[])[0]?.run_id,
        '`members[0].run_id` is missing',
      ],
    ])('says which field is wrong in a record %s', async (_, change, says) => {
      edited(change);
      const read = await readEnsembleRecordFile(dir());
      expect(read).toMatchObject({ kind: 'damaged', path: file() });
      expect(read.kind === 'damaged' && read.problem).toContain(says);
      expect(await readEnsembleRecord(dir())).toBeUndefined();
    });

    it('says a record cut short does not parse, and an empty one is empty', async () => {
      writeFileSync(file(), JSON.stringify(record([]), null, 2).slice(0, 80));
      expect(await readEnsembleRecordFile(dir())).toMatchObject({
        kind: 'damaged',
        problem: expect.stringContaining('not JSON that parses: cut short'),
      });
      writeFileSync(file(), '');
      expect(await readEnsembleRecordFile(dir())).toMatchObject({ problem: 'it is empty' });
    });
  });

  describe('failUnfinishedEnsemble', () => {
    // On the old code a modelrun killed in the aggregate step left `aggregate: []`.
    it('says which aggregate postprocessor modelrun died in, and leaves those that ended', async () => {
      const before = record([member(0, 'succeeded')], {
        aggregate: [
          { type: 'checksum', status: 'succeeded', summary: '3 files' },
          { type: 'command', status: 'running', summary: 'running' },
        ],
      });
      await writeEnsembleRecord(dir(), before);
      await failUnfinishedEnsemble(dir(), 'modelrun died (pid 4321)');
      const after = onDisk();
      expect(after.status).toBe('failed');
      expect(after.aggregate).toEqual([
        { type: 'checksum', status: 'succeeded', summary: '3 files' },
        { type: 'command', status: 'failed', summary: 'modelrun died (pid 4321)' },
      ]);
    });

    it('records what a second Ctrl-C left as cancelled', async () => {
      await writeEnsembleRecord(dir(), record([member(0, 'running'), member(1, 'pending')]));
      await failUnfinishedEnsemble(dir(), 'interrupted (SIGINT twice)', 'cancelled');
      const after = onDisk();
      expect(after.status).toBe('cancelled');
      expect(after.members.map((m) => m.status)).toEqual(['cancelled', 'cancelled']);
    });

    it('ends a running record as failed, failing running members and cancelling pending ones', async () => {
      const before = record([
        member(0, 'succeeded'),
        member(1, 'running'),
        member(2, 'pending'),
        member(3, 'failed', { reason: 'exited 1' }),
        member(4, 'cancelled', { reason: 'interrupted' }),
        member(5, 'skipped', { reason: 'up to date' }),
        member(6, 'running'),
      ]);
      await writeEnsembleRecord(dir(), before);
      const earliest = Date.now();
      await failUnfinishedEnsemble(dir(), 'modelrun died (pid 4321)');
      const after = onDisk();

      expect(after.status).toBe('failed');
      expect(after.ended_at).not.toBeNull();
      const ended = Date.parse(after.ended_at ?? '');
      expect(ended).toBeGreaterThanOrEqual(earliest);
      expect(ended).toBeLessThanOrEqual(Date.now());
      expect(after.duration_s).toBe((ended - Date.parse(STARTED)) / 1000);

      expect(after.members.map((m) => [m.index, m.status, m.reason])).toEqual([
        [0, 'succeeded', undefined],
        [1, 'failed', 'modelrun died (pid 4321)'],
        [2, 'cancelled', 'not started: modelrun died (pid 4321)'],
        [3, 'failed', 'exited 1'],
        [4, 'cancelled', 'interrupted'],
        [5, 'skipped', 'up to date'],
        [6, 'failed', 'modelrun died (pid 4321)'],
      ]);
      for (const i of [1, 2, 6]) expect(after.members[i]?.ended_at).toBe(after.ended_at);
      for (const i of [0, 3, 4, 5]) expect(after.members[i]).toEqual(before.members[i]);
      expect(after.totals).toEqual({
        members: 7,
        ...zero,
        succeeded: 1,
        failed: 3,
        cancelled: 2,
        skipped: 1,
      });
    });

    /** A member's run.json in its own folder, started a second after the ensemble. */
    const runJson = (name: string, status: string, more: Record<string, unknown> = {}) => {
      mkdirSync(tree.path(name, '.modelrun'), { recursive: true });
      writeFileSync(
        tree.path(name, '.modelrun', 'run.json'),
        JSON.stringify({
          run_id: name,
          status,
          exit_code: null,
          started_at: '2024-01-01T00:00:01.000Z',
          ended_at: null,
          duration_s: null,
          staging_dir: tree.path(name),
          backend: { type: 'slurm', config: {} },
          stages: {
            generate: { status: 'succeeded' },
            run: { status: 'running' },
            postprocess: { status: 'pending' },
          },
          postprocess: [],
          modelrun_version: '0.1.0',
          host: {},
          ...more,
        }),
      );
      return tree.path(name);
    };

    it('takes a member it calls pending for started when its run.json says it runs, not when it is queued', async () => {
      await writeEnsembleRecord(
        dir(),
        record([
          member(0, 'pending', { run_dir: runJson('queued', 'submitted') }),
          member(1, 'pending', { run_dir: runJson('started', 'running') }),
        ]),
      );
      await failUnfinishedEnsemble(dir(), 'modelrun died');
      expect(onDisk().members.map((m) => m.status)).toEqual(['cancelled', 'failed']);
    });

    // A model can write its own run.json: a failure there is taken (its exit
    // code, its reason), a success never is, and --resume runs that member again.
    it("takes a member's failure from its own run.json, and never its success", async () => {
      const ended = (status: string, exit: number | null, reason?: string) => ({
        exit_code: exit,
        ended_at: '2024-01-01T00:00:04.000Z',
        duration_s: 3,
        ...(reason === undefined ? {} : { reason }),
        status,
      });
      await writeEnsembleRecord(
        dir(),
        record([
          member(0, 'running', { run_dir: runJson('ok', 'succeeded', ended('succeeded', 0)) }),
          member(1, 'pending', { run_dir: runJson('bad', 'failed', ended('failed', 3)) }),
          member(2, 'running', {
            run_dir: runJson('slow', 'timed_out', ended('timed_out', null, 'timeout 1s')),
          }),
          member(3, 'running', { run_dir: runJson('live', 'running') }),
        ]),
      );
      await failUnfinishedEnsemble(dir(), 'modelrun died');
      expect(onDisk().members.map((m) => [m.status, m.exit_code, m.duration_s, m.reason])).toEqual([
        ['failed', null, null, 'modelrun died'],
        ['failed', 3, 3, 'modelrun died'],
        ['failed', null, 3, 'timeout 1s'],
        ['failed', null, null, 'modelrun died'],
      ]);
      expect(onDisk().members[1]?.ended_at).toBe('2024-01-01T00:00:04.000Z');
    });

    it.each(['succeeded', 'failed', 'cancelled'] as const)(
      'leaves a record that says %s as it is',
      async (status) => {
        await writeEnsembleRecord(
          dir(),
          record([member(0, 'running'), member(1, 'pending')], {
            status,
            ended_at: '2024-01-01T00:01:00.000Z',
            duration_s: 60,
          }),
        );
        const text = readFileSync(file(), 'utf8');
        await failUnfinishedEnsemble(dir(), 'modelrun died');
        expect(readFileSync(file(), 'utf8')).toBe(text);
      },
    );

    it('does nothing where there is no record', async () => {
      await failUnfinishedEnsemble(dir(), 'modelrun died');
      expect(readdirSync(dir())).toEqual([]);
    });

    it('does nothing to a link at ensemble.json, nor to its target', async () => {
      writeFileSync(
        tree.path('outside', 'target.json'),
        JSON.stringify(record([member(0, 'running')])),
      );
      const text = readFileSync(tree.path('outside', 'target.json'), 'utf8');
      symlinkSync(tree.path('outside', 'target.json'), file());
      await failUnfinishedEnsemble(dir(), 'modelrun died');
      expect(lstatSync(file()).isSymbolicLink()).toBe(true);
      expect(readFileSync(tree.path('outside', 'target.json'), 'utf8')).toBe(text);
    });

    it('does nothing to a record it cannot read', async () => {
      writeFileSync(file(), '{"status": "running"');
      await failUnfinishedEnsemble(dir(), 'modelrun died');
      expect(readFileSync(file(), 'utf8')).toBe('{"status": "running"');
    });
  });
});

describe('a record a model wrote', () => {
  const tree = treeForEachTest({ 'study/': '' });
  it.each([
    ['a member that is null', { members: [null] }],
    [
      "a member whose status is none of modelrun's",
      { members: [member(0, 'pending', { status: 'bogus' as MemberStatus })] },
    ],
    [
      'a member whose exit code is text',
      { members: [member(0, 'failed', { exit_code: 'lol' as unknown as number })] },
    ],
    ['a member with no run id', { members: [{ ...member(0, 'pending'), run_id: undefined }] }],
    ['no start', { started_at: undefined }],
  ])('is no record when it holds %s', async (_name, change) => {
    writeFileSync(
      tree.path('study', ENSEMBLE_RECORD),
      JSON.stringify({ ...record([member(0, 'pending')]), ...change }),
    );
    expect(await readEnsembleRecord(tree.path('study'))).toBeUndefined();
  });
});
