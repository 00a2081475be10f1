import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dockerUnavailable,
  ensureTestImages,
  slurmUnavailable,
} from '../../test/helpers/engines.js';
import {
  ignoresSignal,
  isRunning,
  killedAfterEach,
  waitFor,
  waitUntilGone,
} from '../../test/helpers/processes.js';
import { makeTree } from '../../test/helpers/tree.js';
import { writeEnvFile } from '../backends/containers/env-file.js';
import { MARK_VARIABLE, newRunMark } from '../exec/escaped-processes.js';
import { GUARDIAN_SCRIPT } from './client.js';
import type { GuardMessage, GuardTask } from './tasks.js';

const started = killedAfterEach();

/** A stand-in for a model: a process group of its own that runs until stopped. */
function model(ignoreTerm = false): number {
  const child = spawn('/bin/sh', ['-c', ignoreTerm ? "trap '' TERM; sleep 300" : 'sleep 300'], {
    detached: true,
    stdio: 'ignore',
  });
  started.push(child);
  return child.pid as number;
}

/** A process that left a run's group: a session of its own, carrying `mark`. */
function escapee(mark: string): number {
  const child = spawn('sleep', ['300'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [MARK_VARIABLE]: mark },
  });
  started.push(child);
  return child.pid as number;
}

/** Writes an env file as a backend does, and returns the task it hands the guardian. */
async function envFile(path: string): Promise<GuardTask> {
  let task: GuardTask | undefined;
  await writeEnvFile(path, "API_TOKEN='tok-5f0c9e21'\n", (handed) => {
    task = handed;
    return () => {};
  });
  if (task === undefined) throw new Error('the env file was not handed to the guard');
  return task;
}

/** The built guardian (npm run build), told these messages; then its pipe closes. */
function guardian(messages: GuardMessage[]) {
  const child = spawn(process.execPath, [GUARDIAN_SCRIPT], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (const message of messages) child.stdin.write(`${JSON.stringify(message)}\n`);
  child.stdin.end();
  return { exited, stderr: () => stderr };
}

describe('the guardian', () => {
  it('stops a process group it still holds when modelrun goes without a word', async () => {
    const pgid = model();
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 5000 } },
    ]);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(pgid)).toBe(true);
  });

  it('stops what left the group by the run’s mark, and spares another run’s', async () => {
    const pgid = model();
    const mark = newRunMark('r1');
    const escaped = escapee(mark);
    const foreign = escapee(newRunMark('r1'));
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 300, mark } },
    ]);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(pgid)).toBe(true);
    expect(await waitUntilGone(escaped)).toBe(true);
    expect(isRunning(foreign)).toBe(true);
  });

  it('stops the run by its mark alone, when modelrun died before it could register the group', async () => {
    const mark = newRunMark('r1');
    const started = escapee(mark);
    const foreign = escapee(newRunMark('r1'));
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', graceMs: 300, mark } },
    ]);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(started)).toBe(true);
    expect(isRunning(foreign)).toBe(true);
  });

  it('kills a group that ignores SIGTERM once the grace time is over', async () => {
    const pgid = model(true);
    expect(await waitFor(() => ignoresSignal(pgid, 'SIGTERM'), 10_000)).toBe(true);
    const { exited } = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 300 } },
    ]);
    // Inside the grace time: SIGTERM came, and was ignored.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(isRunning(pgid)).toBe(true);
    expect(await exited).toBe(0);
    expect(await waitUntilGone(pgid)).toBe(true);
  });

  it('marks a run record still "running" as failed, and leaves a finished one alone', async () => {
    const tree = makeTree({
      'running.json': JSON.stringify({
        run_id: 'r',
        status: 'running',
        started_at: new Date().toISOString(),
      }),
      'done.json': JSON.stringify({ run_id: 'd', status: 'succeeded' }),
    });
    try {
      const { exited } = guardian([
        { op: 'add', key: 1, task: { kind: 'run-record', path: tree.path('running.json') } },
        { op: 'add', key: 2, task: { kind: 'run-record', path: tree.path('done.json') } },
      ]);
      expect(await exited).toBe(0);
      expect(JSON.parse(readFileSync(tree.path('running.json'), 'utf8'))).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^modelrun ended before the run did/),
        ended_at: expect.any(String),
        duration_s: expect.any(Number),
      });
      expect(JSON.parse(readFileSync(tree.path('done.json'), 'utf8'))).toEqual({
        run_id: 'd',
        status: 'succeeded',
      });
    } finally {
      tree.remove();
    }
  });

  // On the old code the members' run.json were ended in the same step as the
  // ensemble's record, which read them: a member still queued (submitted)
  // whose run.json the guardian had just failed was recorded failed, not
  // cancelled, and a --resume then took it for one that had run.
  it("ends an ensemble's record from its members' run.json as the members left them", async () => {
    const started = new Date(Date.now() - 5000).toISOString();
    const tree = makeTree();
    try {
      // Ten members still queued, each with its run.json, as a Slurm array's are.
      const members = Array.from({ length: 10 }, (_, index) => {
        const runDir = tree.path('ens', `m-${index}`);
        tree.write(
          `ens/m-${index}/.modelrun/run.json`,
          JSON.stringify({
            run_id: `m-${index}`,
            status: 'submitted',
            exit_code: null,
            started_at: new Date().toISOString(),
            ended_at: null,
            duration_s: null,
            staging_dir: runDir,
            backend: { type: 'slurm', config: {} },
            stages: {
              generate: { status: 'succeeded' },
              run: { status: 'running' },
              postprocess: { status: 'pending' },
            },
            postprocess: [],
            modelrun_version: '0.1.0',
            host: {},
          }),
        );
        return {
          index,
          replica: 0,
          run_id: `m-${index}`,
          parameters: {},
          status: 'pending',
          exit_code: null,
          started_at: null,
          ended_at: null,
          duration_s: null,
          run_dir: runDir,
          inputs: 'sha256:0',
        };
      });
      tree.write(
        'ens/ensemble.json',
        JSON.stringify({
          ensemble_id: 'ens',
          file: 'ens.yml',
          dir: tree.path('ens'),
          status: 'running',
          started_at: started,
          ended_at: null,
          duration_s: null,
          backend: { type: 'slurm' },
          max_parallel: 1,
          fail_fast: false,
          totals: {
            members: 10,
            pending: 10,
            running: 0,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
            skipped: 0,
          },
          members,
          aggregate: [],
          modelrun_version: '0.1.0',
        }),
      );
      const { exited } = guardian([
        // The members' runs first, as modelrun hands them over.
        ...members.map(
          (member, key): GuardMessage => ({
            op: 'add',
            key,
            task: { kind: 'run-record', path: join(member.run_dir, '.modelrun', 'run.json') },
          }),
        ),
        { op: 'add', key: 99, task: { kind: 'ensemble-record', dir: tree.path('ens') } },
      ]);
      expect(await exited).toBe(0);
      const ended = JSON.parse(readFileSync(tree.path('ens', 'ensemble.json'), 'utf8'));
      expect(ended.status).toBe('failed');
      // The guardian ended each member's run.json too.
      expect(
        JSON.parse(readFileSync(tree.path('ens', 'm-9', '.modelrun', 'run.json'), 'utf8')),
      ).toMatchObject({ status: 'failed' });
      for (const member of ended.members)
        expect(member).toMatchObject({
          status: 'cancelled',
          reason: expect.stringMatching(/^not started: /),
        });
    } finally {
      tree.remove();
    }
  });

  it('releases the staging lock of the dead run, but not one a later run has touched', async () => {
    const tree = makeTree({ 'dead/.modelrun/run.lock/': '', 'taken/.modelrun/run.lock/': '' });
    try {
      tree.write('dead/.modelrun/run.lock.owner', '{}');
      const later = new Date(Date.now() + 60_000);
      utimesSync(tree.path('taken', '.modelrun', 'run.lock'), later, later);
      const pgid = model();
      const { exited } = guardian([
        { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 5000 } },
        { op: 'add', key: 2, task: { kind: 'staging-lock', stagingDir: tree.path('dead') } },
        { op: 'add', key: 3, task: { kind: 'staging-lock', stagingDir: tree.path('taken') } },
      ]);
      expect(await exited).toBe(0);
      expect(isRunning(pgid)).toBe(false);
      expect(readdirSync(tree.path('dead', '.modelrun'))).toEqual([]);
      expect(existsSync(tree.path('taken', '.modelrun', 'run.lock'))).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('keeps the lock when what the run started could not be stopped', async () => {
    const tree = makeTree({ 'run/.modelrun/run.lock/': '' });
    try {
      const { exited } = guardian([
        {
          op: 'add',
          key: 1,
          task: {
            kind: 'docker-container',
            id: 'c',
            engine: `unix://${tree.path('no-engine.sock')}`,
            remove: true,
          },
        },
        { op: 'add', key: 2, task: { kind: 'staging-lock', stagingDir: tree.path('run') } },
      ]);
      expect(await exited).toBe(0);
      expect(existsSync(tree.path('run', '.modelrun', 'run.lock'))).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('removes an env file the dead run wrote, once it has stopped what read it', async () => {
    const tree = makeTree({ 'run/': '' });
    try {
      const task = await envFile(tree.path('run', '.modelrun', 'apptainer.env'));
      expect(task).toMatchObject({
        kind: 'secret-file',
        path: tree.path('run', '.modelrun', 'apptainer.env'),
      });
      const pgid = model();
      const { exited } = guardian([
        { op: 'add', key: 1, task: { kind: 'process-group', pgid, graceMs: 5000 } },
        { op: 'add', key: 2, task },
      ]);
      expect(await exited).toBe(0);
      expect(isRunning(pgid)).toBe(false);
      expect(readdirSync(tree.path('run', '.modelrun'))).toEqual([]);
    } finally {
      tree.remove();
    }
  });

  it.each([
    [
      'a later run replaced it',
      (path: string) => {
        writeFileSync(`${path}.new`, 'LATER=1\n');
        renameSync(`${path}.new`, path);
      },
      'LATER=1\n',
    ],
    [
      'it was written after modelrun died (an inode number used again)',
      (path: string) => {
        writeFileSync(path, 'LATER=1\n');
        const later = new Date(Date.now() + 60_000);
        utimesSync(path, later, later);
      },
      'LATER=1\n',
    ],
  ])('keeps an env file when %s', async (_what, change, content) => {
    const tree = makeTree({ 'run/': '' });
    try {
      const path = tree.path('run', '.modelrun', 'slurm-secrets.env');
      const task = await envFile(path);
      change(path);
      const { exited } = guardian([{ op: 'add', key: 1, task }]);
      expect(await exited).toBe(0);
      expect(readFileSync(path, 'utf8')).toBe(content);
    } finally {
      tree.remove();
    }
  });

  it('never removes an env file through a symlink', async () => {
    const tree = makeTree({ 'run/': '', 'elsewhere/': '' });
    try {
      // The file itself swapped for a link to another file.
      const path = tree.path('run', '.modelrun', 'apptainer.env');
      const task = await envFile(path);
      renameSync(path, tree.path('elsewhere', 'moved.env'));
      symlinkSync(tree.path('elsewhere', 'moved.env'), path);
      // Its folder swapped for a link to a folder holding that very file.
      const other = tree.path('other', '.modelrun', 'docker.env');
      const folderTask = await envFile(other);
      renameSync(tree.path('other'), tree.path('elsewhere', 'other'));
      symlinkSync(tree.path('elsewhere', 'other'), tree.path('other'));
      const { exited } = guardian([
        { op: 'add', key: 1, task },
        { op: 'add', key: 2, task: folderTask },
      ]);
      expect(await exited).toBe(0);
      expect(existsSync(tree.path('elsewhere', 'moved.env'))).toBe(true);
      expect(existsSync(path)).toBe(true);
      expect(existsSync(tree.path('elsewhere', 'other', '.modelrun', 'docker.env'))).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('keeps an env file while what the run started could not be stopped: a job may still read it', async () => {
    const tree = makeTree({ 'run/': '' });
    try {
      const path = tree.path('run', '.modelrun', 'slurm-secrets.env');
      const task = await envFile(path);
      const { exited } = guardian([
        {
          op: 'add',
          key: 1,
          task: {
            kind: 'docker-container',
            id: 'c',
            engine: `unix://${tree.path('no-engine.sock')}`,
            remove: true,
          },
        },
        { op: 'add', key: 2, task },
      ]);
      expect(await exited).toBe(0);
      expect(existsSync(path)).toBe(true);
    } finally {
      tree.remove();
    }
  });

  it('leaves alone what modelrun withdrew, and everything once modelrun says done', async () => {
    const withdrawn = model();
    const kept = model();
    const first = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid: withdrawn, graceMs: 5000 } },
      { op: 'remove', key: 1 },
    ]);
    const second = guardian([
      { op: 'add', key: 1, task: { kind: 'process-group', pgid: kept, graceMs: 5000 } },
      { op: 'done' },
    ]);
    expect([await first.exited, await second.exited]).toEqual([0, 0]);
    expect(isRunning(withdrawn)).toBe(true);
    expect(isRunning(kept)).toBe(true);
  });

  it.skipIf(dockerUnavailable() !== undefined || slurmUnavailable() !== undefined)(
    "removes a Slurm job's docker container by its job label once the job is gone, and still removes the env files when no engine answers",
    async () => {
      ensureTestImages();
      const job = String(3_000_000_000 + randomBytes(3).readUIntBE(0, 3));
      const label = `modelrun.slurm_job_id=${job}`;
      const id = execFileSync(
        'docker',
        [
          'run',
          '-d',
          '--name',
          `modelrun-guard-${randomBytes(4).toString('hex')}`,
          '--label',
          label,
          'modelrun-test/busybox',
          'sleep',
          '300',
        ],
        { encoding: 'utf8' },
      ).trim();
      const tree = makeTree({ 'run/.modelrun/': '' });
      try {
        const secrets = await envFile(tree.path('run', '.modelrun', 'slurm-secrets.env'));
        const engine = (path: string) => ({ engine: path, label, remove: true });
        const { exited } = guardian([
          // A job Slurm does not know counts as cancelled.
          {
            op: 'add',
            key: 1,
            task: { kind: 'slurm-job', id: job, containers: engine('unix:///var/run/docker.sock') },
          },
          {
            op: 'add',
            key: 2,
            task: {
              kind: 'slurm-job',
              id: job,
              containers: engine(`unix://${tree.path('no-engine.sock')}`),
            },
          },
          { op: 'add', key: 3, task: secrets },
        ]);
        expect(await exited).toBe(0);
        expect(
          execFileSync('docker', ['ps', '-aq', '--filter', `label=${label}`], { encoding: 'utf8' }),
        ).toBe('');
        expect(existsSync(tree.path('run', '.modelrun', 'slurm-secrets.env'))).toBe(false);
      } finally {
        execFileSync('docker', ['rm', '--force', id], { stdio: 'ignore' });
        tree.remove();
      }
    },
  );
});
