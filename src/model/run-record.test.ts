import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountTmpfs, tmpfsUnavailable, unmount } from '../../test/helpers/mount.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { Redactor } from '../secrets.js';
import {
  cancelPendingPostprocessing,
  endDetachedRecord,
  endUnfinishedRecord,
  failUnfinishedRecord,
  maskRecord,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
  writeRunRecord,
} from './run-record.js';
import { lockStagingDir } from './staging-lock.js';
import { releaseAbandonedLock } from './staging-lock-files.js';

const STAGING = '/scratch/simulations/r1';

function record(): RunRecord {
  return {
    run_id: 'succeeded',
    status: 'succeeded',
    exit_code: 0,
    reason: 'the engine said tok-5f0c9e21 was wrong',
    started_at: '2024-01-01T00:00:00.000Z',
    ended_at: '2024-01-01T00:00:01.000Z',
    duration_s: 1,
    staging_dir: STAGING,
    backend: {
      type: 'apptainer',
      config: {
        type: 'apptainer',
        image: 'docker://tok-5f0c9e21/x',
        env_vars: { API_TOKEN: 'tok-5f0c9e21', SHORT_KEY: 'local', WHERE_SECRET: STAGING },
      },
      details: { job_id: '12345678' },
    },
    stages: {
      generate: { status: 'succeeded' },
      run: { status: 'succeeded', detail: 'exited 0 after tok-5f0c9e21' },
      postprocess: { status: 'succeeded', detail: '1 of 1 succeeded' },
    },
    postprocess: [
      {
        type: 'command',
        status: 'succeeded',
        summary: 'wrote /scratch/simulations/r1.tar.gz: succeeded',
        details: { exit_code: 0, API_TOKEN: 'local', path: STAGING },
      },
    ],
    modelrun_version: '0.1.0',
    host: { hostname: 'node-apptainer' },
  };
}

describe('the run record, masked', () => {
  // Secrets that happen to equal what modelrun itself writes: a status, a backend type, the staging dir.
  const redactor = new Redactor().addEnv({
    API_TOKEN: 'tok-5f0c9e21',
    A_TOKEN: 'succeeded',
    B_TOKEN: 'apptainer',
    C_TOKEN: STAGING,
    D_TOKEN: '12345678',
    E_TOKEN: '2024-01-01T00:00:00.000Z',
  });
  const masked = maskRecord(record(), redactor);

  it("never touches modelrun's own fields", () => {
    const original = record();
    expect(masked).toMatchObject({
      run_id: original.run_id,
      status: 'succeeded',
      exit_code: 0,
      started_at: original.started_at,
      ended_at: original.ended_at,
      staging_dir: STAGING,
      backend: {
        type: 'apptainer',
        config: { type: 'apptainer' },
        details: { job_id: '12345678' },
      },
      stages: { run: { status: 'succeeded' }, postprocess: { detail: '1 of 1 succeeded' } },
      postprocess: [
        {
          type: 'command',
          status: 'succeeded',
          summary: original.postprocess[0]?.summary,
          details: { path: STAGING },
        },
      ],
      modelrun_version: '0.1.0',
      host: original.host,
    });
  });

  it('masks secret-named keys whatever their value, and secrets in free text', () => {
    expect(masked.backend.config.env_vars).toEqual({
      API_TOKEN: '***',
      SHORT_KEY: '***',
      WHERE_SECRET: '***',
    });
    expect(masked.backend.config.image).toBe('docker://***/x');
    expect(masked.reason).toBe('the engine said *** was wrong');
    expect(masked.stages.run.detail).toBe('exited 0 after ***');
    expect(masked.postprocess[0]?.details).toEqual({
      exit_code: 0,
      API_TOKEN: '***',
      path: STAGING,
    });
    expect(JSON.stringify(masked)).not.toContain('tok-5f0c9e21');
  });
});

describe('the run record on disk, among links a model left', () => {
  let tree: Tree | undefined;
  let mounted: string | undefined;
  afterEach(() => {
    if (mounted !== undefined) unmount(mounted);
    mounted = undefined;
    tree?.remove();
  });
  const running = { ...record(), status: 'running' as const, ended_at: null, duration_s: null };
  const victimText = `${JSON.stringify(running)}\n`;

  /** A run dir whose .modelrun/run.json is a symlink to victim.json beside the run. */
  function linkedRecord(root: string): { run: string; victim: string } {
    const run = join(root, 'run');
    mkdirSync(join(run, '.modelrun'), { recursive: true });
    const victim = join(root, 'victim.json');
    writeFileSync(victim, victimText);
    symlinkSync(victim, join(run, RUN_RECORD_PATH));
    return { run, victim };
  }

  it('replaces a run.json symlink with the record, leaving its target as it was', async () => {
    tree = makeTree();
    const { run, victim } = linkedRecord(tree.root);
    await writeRunRecord(run, record(), new Redactor());
    expect(readFileSync(victim, 'utf8')).toBe(victimText);
    expect(lstatSync(join(run, RUN_RECORD_PATH)).isFile()).toBe(true);
    expect((await readRunRecord(join(run, RUN_RECORD_PATH)))?.run_id).toBe('succeeded');
  });

  it.skipIf(tmpfsUnavailable())(
    'on a full disk, does not write over a run.json symlink in place',
    async () => {
      tree = makeTree();
      mounted = tree.path('disk');
      const problem = mountTmpfs(mounted, 'size=8k');
      if (problem !== undefined) throw new Error(problem);
      const { run, victim } = linkedRecord(mounted);
      writeFileSync(join(mounted, 'filler'), Buffer.alloc(8192 - 4096));
      const error = await writeRunRecord(run, record(), new Redactor()).catch((e: unknown) => e);
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(readFileSync(victim, 'utf8')).toBe(victimText);
    },
  );

  it('reads a run.json symlink as no record, and the guardian leaves it and its target', async () => {
    tree = makeTree();
    const { run, victim } = linkedRecord(tree.root);
    const path = join(run, RUN_RECORD_PATH);
    expect(await readRunRecord(path)).toBeUndefined();
    await failUnfinishedRecord(path, 'modelrun died');
    expect(readFileSync(victim, 'utf8')).toBe(victimText);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
  });

  it('neither writes nor marks anything through a .modelrun that became a link to another run', async () => {
    // The other run is underway, with a record of its own that must stay so.
    tree = makeTree({ 'other/.modelrun/run.json': victimText, 'other/.modelrun/run.lock/': '' });
    mkdirSync(tree.path('run'));
    symlinkSync(tree.path('other', '.modelrun'), tree.path('run', '.modelrun'));
    const error = await writeRunRecord(tree.path('run'), record(), new Redactor()).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(
      /\.modelrun is a symlink to .*other\/\.modelrun, not modelrun's folder/,
    );
    await failUnfinishedRecord(tree.path('run', RUN_RECORD_PATH), 'modelrun died');
    // status, wait and cancel say so, instead of leaving the record underway for ever.
    await expect(
      endUnfinishedRecord(tree.path('run', RUN_RECORD_PATH), undefined, () => {}),
    ).rejects.toThrow(/\.modelrun is a symlink to .*, not modelrun's folder/);
    await releaseAbandonedLock(tree.path('run'), Date.now() + 60_000);
    expect(readFileSync(tree.path('other', RUN_RECORD_PATH), 'utf8')).toBe(victimText);
    expect(lstatSync(tree.path('other', '.modelrun', 'run.lock')).isDirectory()).toBe(true);
  });

  it('writes nothing through a .modelrun that a model swaps for a link as fast as it can', async () => {
    // The model's side: .modelrun moved aside, a link to the victim put in its
    // place, taken away, and the folder moved back, over and over. A check of
    // .modelrun and a write by its name after would, now and then, land in the victim.
    tree = makeTree({ 'run/.modelrun/': '', 'victim/': '' });
    const run = tree.path('run');
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
        const [own, aside, victim] = process.argv.slice(1);
        const hold = (ms) => { for (const until = performance.now() + ms; performance.now() < until; ); };
        for (const end = Date.now() + 60_000; Date.now() < end; ) {
          try {
            fs.renameSync(own, aside);
            fs.symlinkSync(victim, own);
            hold(0.5);
            fs.unlinkSync(own);
            fs.renameSync(aside, own);
            hold(0.5);
          } catch {}
        }`,
        join(run, '.modelrun'),
        join(run, '.modelrun-aside'),
        tree.path('victim'),
      ],
      { stdio: 'ignore' },
    );
    try {
      const outcomes = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const wrote = await writeRunRecord(run, running, new Redactor()).then(
          () => 'written',
          (error: NodeJS.ErrnoException) => error.code ?? error.constructor.name,
        );
        outcomes.add(wrote);
        const locked = await lockStagingDir(run, () => undefined).then(
          (lock) => lock.release().then(() => 'locked'),
          (error: NodeJS.ErrnoException) => error.code ?? error.constructor.name,
        );
        outcomes.add(locked);
      }
      expect(readdirSync(tree.path('victim'))).toEqual([]);
      // Each try either went into the run's own folder or was refused, saying why.
      expect(
        [...outcomes].filter(
          (o) => !/^(written|locked|RunFailedError|LockHeldError|ENOENT|ENOTEMPTY|EEXIST)$/.test(o),
        ),
      ).toEqual([]);
    } finally {
      swapper.kill('SIGKILL');
    }
  });

  it('the guardian marks a run.json of its own that says running as failed', async () => {
    tree = makeTree({ '.modelrun/run.json': victimText });
    const path = tree.path(RUN_RECORD_PATH);
    await failUnfinishedRecord(path, 'modelrun died');
    expect(await readRunRecord(path)).toMatchObject({ status: 'failed', reason: 'modelrun died' });
  });
});

describe("a detached run's end, as its engine says it", () => {
  it('never ends before it started: Slurm counts whole seconds', () => {
    const run = {
      ...record(),
      status: 'submitted' as const,
      started_at: '2026-12-01T05:11:32.278Z',
      ended_at: null,
      duration_s: null,
    };
    endDetachedRecord(run, {
      status: 'succeeded',
      detail: 'job 2830 COMPLETED',
      exitCode: 0,
      endedAt: new Date('2026-12-01T05:11:32.000Z'),
    });
    expect(run).toMatchObject({ ended_at: '2026-12-01T05:11:32.278Z', duration_s: 0 });
    expect(run.stages.run).toMatchObject({ ended_at: '2026-12-01T05:11:32.278Z' });
  });

  it('never ends its run stage before that stage was seen running', () => {
    const run = {
      ...record(),
      status: 'running' as const,
      started_at: '2026-12-01T05:11:32.278Z',
      ended_at: null,
      duration_s: null,
    };
    run.stages.run = { status: 'running', started_at: '2026-12-01T05:11:32.520Z' };
    endDetachedRecord(run, {
      status: 'succeeded',
      detail: 'job 2830 COMPLETED',
      exitCode: 0,
      endedAt: new Date('2026-12-01T05:11:32.000Z'),
    });
    expect(run.stages.run).toMatchObject({ ended_at: '2026-12-01T05:11:32.520Z' });
    expect(run).toMatchObject({ ended_at: '2026-12-01T05:11:32.520Z', duration_s: 0.242 });
  });
});

describe("cancelling a detached run's postprocessing", () => {
  let tree: Tree | undefined;
  afterEach(() => tree?.remove());
  const REASON = 'postprocessing cancelled with `modelrun cancel`; the model had succeeded';
  const STOPPING = new Date('2026-12-01T06:30:00.000Z');

  /** A detached run that succeeded, its postprocess stage as given, on disk. */
  function onDisk(postprocess: RunRecord['stages']['postprocess']) {
    tree = makeTree({ 'r1/.modelrun/': '' });
    const run: RunRecord = {
      ...record(),
      reason: undefined,
      detached: { logs: { stdout: '/l/out', stderr: '/l/err' } },
      stages: { ...record().stages, postprocess },
    };
    writeFileSync(tree.path('r1', RUN_RECORD_PATH), JSON.stringify(run));
    return { dir: tree.path('r1'), run };
  }

  it('cancels the run and its postprocessing, which no wait then does', async () => {
    const { dir, run } = onDisk({ status: 'pending' });
    const written = await cancelPendingPostprocessing(dir, run, {
      reason: REASON,
      stopping: STOPPING,
    });
    expect(written).toMatchObject({
      status: 'cancelled',
      reason: REASON,
      exit_code: 0,
      stages: {
        run: { status: 'succeeded' },
        postprocess: { status: 'cancelled', detail: REASON },
      },
    });
    expect(await readRunRecord(join(dir, RUN_RECORD_PATH))).toEqual(written);
  });

  it('counts a failure the stopped job recorded as it was stopped, but not one from before', async () => {
    const during = onDisk({ status: 'failed', ended_at: '2026-12-01T06:30:00.500Z' });
    expect(
      await cancelPendingPostprocessing(during.dir, during.run, {
        reason: REASON,
        stopping: STOPPING,
      }),
    ).toMatchObject({ status: 'cancelled' });
    const before = onDisk({ status: 'failed', ended_at: '2026-12-01T06:29:59.000Z' });
    expect(
      await cancelPendingPostprocessing(before.dir, before.run, {
        reason: REASON,
        stopping: STOPPING,
      }),
    ).toBeUndefined();
  });

  it('leaves alone a run postprocessed meanwhile, and a newer run that took its place', async () => {
    const done = onDisk({ status: 'succeeded' });
    expect(
      await cancelPendingPostprocessing(done.dir, done.run, { reason: REASON, stopping: STOPPING }),
    ).toBeUndefined();
    const newer = onDisk({ status: 'pending' });
    expect(
      await cancelPendingPostprocessing(
        newer.dir,
        { started_at: '2020-01-01T00:00:00.000Z' },
        { reason: REASON, stopping: STOPPING },
      ),
    ).toBeUndefined();
    expect(JSON.parse(readFileSync(join(newer.dir, RUN_RECORD_PATH), 'utf8'))).toEqual(newer.run);
  });
});
