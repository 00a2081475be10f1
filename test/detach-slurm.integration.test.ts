import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runInProcess, runModelrun, startModelrun } from './helpers/cli.js';
import { detachAndHangUp as hangUpAfterDetach } from './helpers/detach.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { waitFor } from './helpers/processes.js';
import { readRunRecord, writeForged } from './helpers/run-record.js';
import { clusterTimeout, QUEUE_MS, slurmJob, TEST_JOB_YAML } from './helpers/slurm.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/*
 * `run --detach` on Slurm: the job is the run. Every job has a random name
 * (its run id) and asks for one CPU, a little memory and a time limit.
 */
const tree = treeForEachTest({
  'slurm.yml': `type: slurm\n${TEST_JOB_YAML}`,
  'held.yml': `type: slurm\n${TEST_JOB_YAML}timeout: 90s\nadditional_options: ["--hold"]\n`,
  'post.yml': 'type: command\ncommand: "echo once >> post.txt"\n',
});

const runDir = (runId: string) => tree.path('simulations', runId);

// What finishing a detached run needs is kept in modelrun's state folder: the test's own, not the user's.
beforeEach(() => {
  process.env.XDG_STATE_HOME = tree.path('state');
});
afterAll(() => {
  delete process.env.XDG_STATE_HOME;
});

/** `run ARGS --detach` in the test's tree, then its session hung up on (see detachAndHangUp). */
const detachAndHangUp = (args: string[]) => hangUpAfterDetach(args, { cwd: tree.root });

/** Detaches `model` on the `backend` config, with the postprocessor config `post` when given. */
function detachOn(backend: string, model: string, post?: string) {
  return detachAndHangUp([
    model,
    '--backend-config',
    backend,
    ...(post === undefined ? [] : ['--postprocessor-config', post]),
  ]);
}

/** The job that postprocesses a run with `postprocess_on: node`, as its record names it. */
function postprocessJob(runId: string): { id: string; log: string } {
  const record = readRunRecord(runDir(runId)) as
    | { detached?: { postprocess?: { handle: { id: string }; log: string } } }
    | undefined;
  const job = record?.detached?.postprocess;
  if (job === undefined) throw new Error(`${runId}'s record names no postprocess job`);
  return { id: job.handle.id, log: job.log };
}

/**
 * on-node.yml, a Slurm config with `postprocess_on: node`, and held-post.yml,
 * a postprocessor that holds until the test writes `go` in the tree.
 */
function writeOnNodeConfigs(): void {
  tree.write('on-node.yml', `type: slurm\n${TEST_JOB_YAML}postprocess_on: node\n`);
  tree.write(
    'held-post.yml',
    'type: command\ncommand: "until [ -e ../../go ]; do sleep 0.2; done; echo once >> post.txt"\n',
  );
}

/** A job's state in the queue, or '' once Slurm has let it go. */
function queueState(job: string): string {
  try {
    return execFileSync('squeue', ['-h', '-j', job, '-o', '%T'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return ''; // "Invalid job id": Slurm has forgotten it.
  }
}

/** The id of the job a run was submitted as, as its record names it. */
function jobOf(runId: string): string {
  return String((readRunRecord(runDir(runId)) as { handle: { id: string } }).handle.id);
}

/** Detaches a run of `echo done` postprocessed by post.yml, and waits for its job to end unseen; gives the run id. */
async function detachedAndEnded(name: string): Promise<string> {
  const runId = uniqueId(name);
  expect((await detachOn('slurm.yml', writeModel(runId, 'echo done'), 'post.yml')).code).toBe(0);
  const jobId = jobOf(runId);
  expect(
    await waitFor(() => ['COMPLETED', ''].includes(queueState(jobId)), QUEUE_MS + 30_000),
  ).toBe(true);
  return runId;
}

function writeModel(runId: string, command: string, more = ''): string {
  const file = `${runId}.yml`;
  tree.write(file, `run_id: ${runId}\ncommand: ${JSON.stringify(command)}\n${more}`);
  return file;
}

/**
 * A second detached run into the dir of a job still running is refused; `cancel`
 * then stops the job. Returns what cancel printed.
 */
async function refusedThenCancelled(model: string, runId: string, jobId: string) {
  const again = await runInProcess(['run', model, '--backend-config', 'slurm.yml', '--detach'], {
    cwd: tree.root,
  });
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`holds run ${runId}, which has not ended`);
  const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
  expect(cancelled.code).toBe(0);
  expect(await waitFor(() => ['', 'CANCELLED'].includes(queueState(jobId)), 30_000)).toBe(true);
  return cancelled;
}

describe.skipIf(missing !== undefined)('a detached slurm run: the job is the run', () => {
  it(
    'outlives the command and its session; logs show it, and two waits record its end and postprocess it once',
    async () => {
      const runId = uniqueId('detached');
      const model = writeModel(runId, 'echo started; sleep 2; echo done; echo careful >&2');
      const detached = await detachOn('slurm.yml', model, 'post.yml');
      expect(detached).toMatchObject({ code: 0, leftBehind: false });
      expect(detached.stdout).toMatch(new RegExp(`^detached ${runId} on slurm\\n`));
      expect(detached.stdout).toMatch(/ {2}handle {4}slurm job \d+\n/);
      const submitted = readRunRecord(runDir(runId));
      expect(submitted).toMatchObject({
        status: 'submitted',
        handle: { kind: 'slurm-job' },
        detached: { logs: { stdout: expect.stringMatching(/slurm-\d+\.out$/) } },
      });
      expect(submitted).not.toHaveProperty('owner');
      const config = execFileSync('scontrol', ['show', 'config'], { encoding: 'utf8' });
      const cluster = /^ClusterName\s*=\s*(\S+)/m.exec(config)?.[1];
      expect(submitted).toMatchObject({ handle: { cluster } });

      // A wait killed on the way changes nothing; the next ones follow the job to its end.
      const killed = spawn(process.execPath, [BIN, 'wait', runId], { cwd: tree.root });
      await new Promise((resolve) => setTimeout(resolve, 500));
      killed.kill('SIGKILL');
      const waits = await Promise.all([
        runModelrun(['wait', runId], { cwd: tree.root }),
        runModelrun(['wait', runId], { cwd: tree.root }),
      ]);
      expect(waits.map((wait) => wait.code)).toEqual([0, 0]);
      for (const wait of waits) expect(wait.stderr).toContain(`${runId} succeeded (exit code 0)`);
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');

      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'succeeded',
        exit_code: 0,
        stages: { run: { status: 'succeeded' }, postprocess: { status: 'succeeded' } },
        postprocess: [{ type: 'command', status: 'succeeded' }],
      });
      expect(await runInProcess(['logs', runId], { cwd: tree.root })).toMatchObject({
        code: 0,
        stdout: 'started\ndone\n',
      });
      expect((await runInProcess(['logs', runId, '--stderr'], { cwd: tree.root })).stdout).toBe(
        'careful\n',
      );
      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/status +succeeded/);
      // A later wait has nothing left to do: the postprocessor ran once.
      expect((await runModelrun(['wait', runId], { cwd: tree.root })).code).toBe(0);
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');
    },
    clusterTimeout(30_000),
  );

  it(
    'with postprocess_on: node is postprocessed by a job of its own, and a wait meanwhile leaves it to that job',
    async () => {
      // The postprocessor holds until the test has seen the wait leave it to the job.
      writeOnNodeConfigs();
      const runId = uniqueId('on-node');
      // The run holds too, until the test has looked at it while it is underway.
      const model = writeModel(runId, 'until [ -e ../../run-go ]; do sleep 0.2; done; echo done');
      const detached = await detachOn('on-node.yml', model, 'held-post.yml');
      expect(detached).toMatchObject({ code: 0, leftBehind: false });
      expect(detached.stdout).toMatch(
        / {2}then {6}slurm job \d+ postprocesses it once it has succeeded; log .*postprocess-\d+\.log\n/,
      );
      const job = postprocessJob(runId);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        detached: { postprocess: { handle: { kind: 'slurm-job', id: job.id } } },
      });
      // Out of the run dir, where the model could put a link in the way of the job's output.
      expect(job.log).toBe(
        join(tree.path('state'), 'modelrun', 'detached', `${runId}-postprocess-${job.id}.log`),
      );
      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.stdout).toMatch(
        new RegExp(`postprocess +pending: job ${job.id} runs it once the job has succeeded`),
      );
      // A record whose handle names the postprocess job is not taken for the run's own job:
      // the handle kept at submission is the run's.
      const recordPath = join(runDir(runId), '.modelrun', 'run.json');
      const kept = readFileSync(recordPath, 'utf8');
      const forged = JSON.parse(kept) as { handle: { id: string } };
      const own = forged.handle.id;
      forged.handle.id = job.id;
      writeFileSync(recordPath, JSON.stringify(forged));
      const misled = await runInProcess(['status', runId], { cwd: tree.root });
      expect(misled.stdout).toMatch(new RegExp(`engine +job ${own} `));
      writeFileSync(recordPath, kept);
      tree.write('run-go', '');

      const waiting = await startModelrun(['wait', runId], {
        cwd: tree.root,
        marker: `${runId} is postprocessed by a job of its own: job ${job.id}`,
        markerOn: 'stderr',
        waitMs: QUEUE_MS,
      });
      expect(waiting.output().stderr).toContain(`${runId} is postprocessed by a job of its own`);
      tree.write('go', '');
      expect(await waiting.exited).toBe(0);
      expect(waiting.output().stderr).not.toContain('postprocessing it here');
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'succeeded',
        stages: { postprocess: { status: 'succeeded' } },
        postprocess: [{ type: 'command', status: 'succeeded' }],
      });
      // The job postprocessed it: its log says so.
      expect(readFileSync(job.log, 'utf8')).toContain(`postprocessing ${runId}`);
    },
    clusterTimeout(60_000),
  );

  it(
    'with postprocess_on: node, once it has succeeded, is cancelled by stopping its postprocess job; no wait postprocesses it after',
    async () => {
      writeOnNodeConfigs();
      const runId = uniqueId('on-node-cancel');
      const model = writeModel(runId, 'echo done');
      expect((await detachOn('on-node.yml', model, 'held-post.yml')).code).toBe(0);
      const job = postprocessJob(runId);
      // The job's wait has taken the run dir and runs the postprocessor, which holds.
      expect(
        await waitFor(
          () =>
            existsSync(job.log) &&
            readFileSync(job.log, 'utf8').includes(`postprocessing ${runId}`),
          QUEUE_MS + 30_000,
        ),
      ).toBe(true);

      const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(cancelled).toMatchObject({ code: 0 });
      expect(cancelled.stdout).toContain(
        `cancelled ${runId}: its postprocess job ${job.id} was stopped; the model had succeeded`,
      );
      expect(await waitFor(() => queueState(job.id) === '', 30_000)).toBe(true);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'cancelled',
        exit_code: 0,
        reason: 'postprocessing cancelled with `modelrun cancel`; the model had succeeded',
        stages: { run: { status: 'succeeded' }, postprocess: { status: 'cancelled' } },
      });

      // Nothing postprocesses it after: not the stopped job, not a wait.
      tree.write('go', '');
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(1);
      expect(waited.stderr).toContain(`${runId} cancelled (exit code 0)`);
      const again = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(again.stdout).toContain(`${runId} had already ended: cancelled`);
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
    },
    clusterTimeout(90_000),
  );

  it(
    'whose wait is postprocessing it is cancelled by asking that wait to stop; nothing postprocesses it after',
    async () => {
      writeOnNodeConfigs();
      const runId = uniqueId('detached-cancel-post');
      const model = writeModel(runId, 'echo done');
      expect((await detachOn('slurm.yml', model, 'held-post.yml')).code).toBe(0);
      const waiting = await startModelrun(['wait', runId], {
        cwd: tree.root,
        marker: `postprocessing ${runId}`,
        markerOn: 'stderr',
        waitMs: QUEUE_MS + 30_000,
      });
      expect(waiting.output().stderr).toContain(`postprocessing ${runId}`);
      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.stdout).toMatch(
        /postprocess +under way: modelrun \(pid \d+ on \S+\) holds the run dir and postprocesses it/,
      );

      const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain(
        `cancelled ${runId}: the modelrun that postprocessed it was asked to stop`,
      );
      expect(await waiting.exited).toBe(1);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'cancelled',
        reason: 'postprocessing cancelled with `modelrun cancel`; the model had succeeded',
        stages: { run: { status: 'succeeded' }, postprocess: { status: 'cancelled' } },
      });
      tree.write('go', '');
      expect((await runModelrun(['wait', runId], { cwd: tree.root })).code).toBe(1);
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
    },
    clusterTimeout(60_000),
  );

  it(
    'with a cancel request left in its run dir is not postprocessed by a wait, which records it cancelled',
    async () => {
      // What a wait finds when a `modelrun cancel` has asked, and not yet recorded the cancel.
      const runId = await detachedAndEnded('detached-asked');
      writeFileSync(join(runDir(runId), '.modelrun', 'cancel-request'), '{}\n');
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(1);
      expect(waited.stderr).toContain(
        `the postprocessing of ${runId} was cancelled with \`modelrun cancel\``,
      );
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'cancelled',
        stages: { run: { status: 'succeeded' }, postprocess: { status: 'cancelled' } },
      });
    },
    clusterTimeout(60_000),
  );

  it(
    'cancelled once its job has ended unseen, says it had ended, and leaves its postprocessing to the next wait',
    async () => {
      const runId = await detachedAndEnded('ended-unseen');
      // The record still says the job was submitted: cancel finds the end, and stops nothing.
      const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain(`${runId} had already ended: succeeded`);
      expect(existsSync(join(runDir(runId), '.modelrun', 'cancel-request'))).toBe(false);
      expect((await runModelrun(['wait', runId], { cwd: tree.root })).code).toBe(0);
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');
    },
    clusterTimeout(60_000),
  );

  it(
    'whose record a model forged to say it succeeded is cancelled by stopping its job, and recorded cancelled throughout',
    async () => {
      const runId = uniqueId('detached-forged-end');
      const model = writeModel(runId, 'until [ -e ../../never ]; do sleep 0.2; done');
      expect((await detachOn('slurm.yml', model, 'post.yml')).code).toBe(0);
      const recordPath = join(runDir(runId), '.modelrun', 'run.json');
      const kept = JSON.parse(readFileSync(recordPath, 'utf8')) as {
        handle: { id: string };
        stages: Record<string, object>;
      };
      const jobId = kept.handle.id;
      const forged = {
        ...kept,
        status: 'succeeded',
        exit_code: 0,
        ended_at: new Date().toISOString(),
        stages: {
          ...kept.stages,
          run: { ...kept.stages.run, status: 'succeeded' },
          postprocess: { ...kept.stages.postprocess, status: 'pending' },
        },
      };
      writeFileSync(recordPath, JSON.stringify(forged));

      // Where it was submitted, the job modelrun kept is asked, whatever the record says.
      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.stdout).toMatch(
        /reason +its run\.json says succeeded .*, but the job modelrun submitted for it still (runs|waits)/,
      );
      // Elsewhere, with nothing kept, the job is shown to be the run's before anything is believed.
      const cancelled = await runModelrun(['cancel', runId], {
        cwd: tree.root,
        env: { XDG_STATE_HOME: tree.path('other-host-state') },
      });
      expect(cancelled.code).toBe(0);
      expect(cancelled.stderr).toContain(
        `${runId}'s record said it had succeeded, but its job still ran: stopped it`,
      );
      expect(cancelled.stdout).toContain(
        `cancelled ${runId}: stopped through its handle (slurm-job), though its record said it had succeeded`,
      );
      expect(cancelled.stderr).not.toContain(`stopped ${runId}'s postprocessing`);
      expect(await waitFor(() => queueState(jobId) === '', 30_000)).toBe(true);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'cancelled',
        exit_code: null,
        stages: { run: { status: 'cancelled' }, postprocess: { status: 'cancelled' } },
      });
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
    },
    clusterTimeout(60_000),
  );

  const ignoringTerm: [string, (runId: string) => string][] = [
    [
      "one its shell exec'd",
      (runId) => `echo "$(hostname) $BASHPID" > where; trap '' TERM; exec -a ${runId} sleep 300`,
    ],
    [
      'a child of its shell',
      (runId) =>
        `python3 -c "import os, signal, socket, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open('where', 'w').write(socket.gethostname() + ' ' + str(os.getpid())); time.sleep(300)" ${runId}`,
    ],
  ];
  for (const [which, command] of ignoringTerm)
    it(
      `cancelled, leaves no process of a model that ignores SIGTERM: ${which}`,
      async (ctx) => {
        const runId = uniqueId('ignores-term');
        // The process that ignores SIGTERM says where it runs, and carries the run id in its command line.
        const model = writeModel(runId, command(runId));
        expect((await detachOn('slurm.yml', model)).code).toBe(0);
        const where = join(runDir(runId), 'where');
        const said = () => (existsSync(where) ? readFileSync(where, 'utf8').trim() : '');
        expect(await waitFor(() => said().includes(' '), QUEUE_MS + 30_000)).toBe(true);
        const [host, pid] = said().split(' ');
        const alive = () => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(runId);
          } catch {
            return false;
          }
        };
        try {
          if (host !== hostname()) ctx.skip(); // its node is another machine, whose processes are not seen here
          expect(alive()).toBe(true);
          expect((await runModelrun(['cancel', runId], { cwd: tree.root })).code).toBe(0);
          // SIGKILL follows SIGTERM after the cluster's KillWait.
          expect(await waitFor(() => !alive(), 60_000)).toBe(true);
        } finally {
          if (alive()) process.kill(Number(pid), 'SIGKILL');
        }
      },
      clusterTimeout(90_000),
    );

  it(
    'whose model rewrote its run.json to say it failed, in another run, is still followed: status, a new run and cancel go by its job',
    async () => {
      const runId = uniqueId('rewritten');
      tree.write(
        'tpl/rewrite.py',
        [
          'import json',
          "r = json.load(open('.modelrun/run.json'))",
          "r.update(status='failed', started_at='2020-01-01T00:00:00.000Z', ended_at='2020-01-01T00:00:01.000Z', handle={'kind': 'slurm-job', 'id': '1'})",
          "json.dump(r, open('.modelrun/run.json', 'w'))",
          "open('rewritten', 'w').write('yes')",
          '',
        ].join('\n'),
      );
      const model = writeModel(
        runId,
        'python3 rewrite.py; until [ -e ../../never ]; do sleep 0.2; done',
        'template: ./tpl\n',
      );
      expect((await detachOn('slurm.yml', model)).code).toBe(0);
      const jobId = jobOf(runId);
      expect(
        await waitFor(() => existsSync(join(runDir(runId), 'rewritten')), QUEUE_MS + 30_000),
      ).toBe(true);

      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`engine +job ${jobId} RUNNING`));
      expect(status.stdout).toContain('its run.json says failed');
      const cancelled = await refusedThenCancelled(model, runId, jobId);
      expect(cancelled.stdout).toContain(
        `cancelled ${runId}: stopped through its handle (slurm-job)`,
      );
    },
    clusterTimeout(60_000),
  );

  it(
    'whose model removed its .modelrun is found from what was kept: status asks Slurm, a new run into its dir is refused, cancel stops it',
    async () => {
      const runId = uniqueId('wiped');
      const model = writeModel(
        runId,
        'rm -rf .modelrun; until [ -e ../../never ]; do sleep 0.2; done',
      );
      expect((await detachOn('slurm.yml', model)).code).toBe(0);
      const jobId = jobOf(runId);
      const bookkeeping = join(runDir(runId), '.modelrun');
      expect(await waitFor(() => !existsSync(bookkeeping), QUEUE_MS + 30_000)).toBe(true);

      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.stdout).toMatch(new RegExp(`engine +job ${jobId} RUNNING`));
      await refusedThenCancelled(model, runId, jobId);
      expect(readRunRecord(runDir(runId))).toMatchObject({ status: 'cancelled' });
    },
    clusterTimeout(60_000),
  );

  it(
    'with postprocess_on: node that fails leaves no postprocess job behind, and is not postprocessed',
    async () => {
      tree.write('on-node.yml', `type: slurm\n${TEST_JOB_YAML}postprocess_on: node\n`);
      const runId = uniqueId('on-node-fails');
      const model = writeModel(runId, 'exit 3');
      expect((await detachOn('on-node.yml', model, 'post.yml')).code).toBe(0);
      const job = postprocessJob(runId).id;
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(1);
      // Slurm cancels a job whose dependency can no longer be met (--kill-on-invalid-dep).
      expect(await waitFor(() => queueState(job) === '', 30_000)).toBe(true);
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'failed',
        stages: { postprocess: { status: 'skipped' } },
      });
    },
    clusterTimeout(60_000),
  );

  it(
    'that fails is recorded with its exit code by status, and wait exits 1 without postprocessing',
    async () => {
      const runId = uniqueId('detached-fails');
      const model = writeModel(
        runId,
        'echo trying; exit 4',
        'postprocess:\n  - type: command\n    command: "touch post.txt"\n',
      );
      const detached = await detachOn('slurm.yml', model);
      expect(detached.code).toBe(0);
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(1);
      expect(waited.stderr).toContain(`${runId} failed (exit code 4)`);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'failed',
        exit_code: 4,
        stages: { postprocess: { status: 'skipped' } },
      });
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
    },
    clusterTimeout(30_000),
  );

  it('while PENDING keeps its staging dir from a new run, holds its timeout as its time limit, and is cancelled from another process', async () => {
    const runId = uniqueId('detached-held');
    const model = writeModel(runId, 'echo never');
    const detached = await detachOn('held.yml', model, 'post.yml');
    expect(detached.code).toBe(0);
    const jobId = jobOf(runId);
    try {
      // timeout: 90s, which no modelrun follows to enforce, is the job's limit in Slurm's minutes.
      expect(slurmJob(jobId)).toMatchObject({ JobState: 'PENDING', TimeLimit: '00:02:00' });

      const again = await runInProcess(['run', model, '--backend-config', 'slurm.yml'], {
        cwd: tree.root,
      });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(
        `holds run ${runId}, which has not ended (job ${jobId} PENDING`,
      );
      expect(readRunRecord(runDir(runId))).toMatchObject({ status: 'submitted' });
      // Nor may generate change its inputs, or postprocess read its outputs, while it has not ended.
      for (const command of [
        ['generate', model],
        ['postprocess', model, '--postprocessor-config', 'post.yml'],
      ]) {
        const refused = await runInProcess(command, { cwd: tree.root });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`holds run ${runId}, which has not ended`);
      }
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'submitted',
        stages: { postprocess: { status: 'pending' } },
      });

      // A copy of the run dir names the same job, which is not the copy's: it keeps nothing from a run there.
      const copyId = `${runId}-copy`;
      cpSync(runDir(runId), runDir(copyId), { recursive: true });
      const copied = await runInProcess(['generate', writeModel(copyId, 'true')], {
        cwd: tree.root,
      });
      expect(copied.code).toBe(0);

      const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain('stopped through its handle (slurm-job)');
      expect(slurmJob(jobId).JobState ?? 'CANCELLED').toBe('CANCELLED');
      expect(readRunRecord(runDir(runId))).toMatchObject({ status: 'cancelled' });
    } finally {
      await runModelrun(['cancel', runId], { cwd: tree.root });
    }
  }, 60_000);

  it(
    'that has ended is not recorded cancelled by a cancel that comes after: its own end stands',
    async () => {
      const runId = uniqueId('detached-done');
      const model = writeModel(runId, 'echo done');
      expect((await detachOn('slurm.yml', model)).code).toBe(0);
      const jobId = jobOf(runId);
      await waitFor(() => ['COMPLETED', undefined].includes(slurmJob(jobId).JobState), QUEUE_MS);
      const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
      expect(cancelled).toMatchObject({ code: 0 });
      expect(cancelled.stdout).toContain(`${runId} had already ended: succeeded`);
      expect(readRunRecord(runDir(runId))).toMatchObject({ status: 'succeeded', exit_code: 0 });
    },
    clusterTimeout(30_000),
  );

  it('cancelled by hand with scancel is recorded failed, with the time Slurm ended it', async () => {
    const runId = uniqueId('detached-scancelled');
    const model = writeModel(runId, 'echo never');
    expect((await detachOn('held.yml', model)).code).toBe(0);
    const jobId = jobOf(runId);
    execFileSync('scancel', [jobId]);
    const cancelledAt = Date.now();
    await sleep(2500);
    const status = await runInProcess(['status', runId], { cwd: tree.root });
    expect(status.code).toBe(1);
    const record = readRunRecord(runDir(runId)) as { ended_at: string; reason: string };
    expect(record).toMatchObject({ status: 'failed', exit_code: null });
    expect(record.reason).toContain(`job ${jobId} CANCELLED`);
    // Slurm's end, to its second, not the time status looked.
    expect(Math.abs(Date.parse(record.ended_at) - cancelledAt)).toBeLessThan(1500);
  }, 30_000);

  it(
    'killed by a signal is recorded with the signal and no exit code, as a run that follows it records it',
    async () => {
      const runId = uniqueId('detached-killed');
      const model = writeModel(runId, 'kill -9 $$');
      expect((await detachOn('slurm.yml', model)).code).toBe(0);
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(1);
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'failed',
        exit_code: null,
        signal: 'SIGKILL',
      });
    },
    clusterTimeout(30_000),
  );

  it(
    'whose wait is interrupted while it postprocesses exits 130, and leaves the postprocessing to the next wait',
    async () => {
      const runId = uniqueId('detached-interrupted');
      tree.write('slow-post.yml', 'type: command\ncommand: "sleep 5; echo once >> post.txt"\n');
      const model = writeModel(runId, 'true');
      expect((await detachOn('slurm.yml', model, 'slow-post.yml')).code).toBe(0);
      const waiting = await startModelrun(['wait', runId], {
        cwd: tree.root,
        marker: `postprocessing ${runId}`,
        markerOn: 'stderr',
        waitMs: QUEUE_MS,
      });
      expect(waiting.output().stderr).toContain(`postprocessing ${runId}`);
      waiting.child.kill('SIGINT');
      expect(await waiting.exited).toBe(130);
      expect(waiting.output().stderr).toContain(
        `the postprocessing of ${runId} was interrupted; it is still to do`,
      );
      expect(readRunRecord(runDir(runId))).toMatchObject({
        stages: { postprocess: { status: 'pending' } },
      });
      expect((await runModelrun(['wait', runId], { cwd: tree.root })).code).toBe(0);
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');
    },
    clusterTimeout(30_000),
  );

  it(
    'waited for with --json prints only the record on stdout, the postprocessor saying its piece on stderr',
    async () => {
      const runId = uniqueId('detached-json');
      tree.write('loud-post.yml', 'type: command\ncommand: "echo from the postprocessor"\n');
      const model = writeModel(runId, 'echo from the model');
      expect((await detachOn('slurm.yml', model, 'loud-post.yml')).code).toBe(0);
      const waited = await runModelrun(['wait', runId, '--json'], { cwd: tree.root });
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout)).toMatchObject({ run_id: runId, status: 'succeeded' });
      expect(waited.stderr).toContain('from the postprocessor');
    },
    clusterTimeout(30_000),
  );

  it(
    'runs only the postprocessors it was submitted with, whatever its model writes into run.json',
    async () => {
      const runId = uniqueId('detached-forged');
      // The model writes a postprocessor of its own, and names it in run.json as the files to postprocess with.
      tree.write(
        'tpl/forge.py',
        [
          'import json, os',
          "record = json.load(open('.modelrun/run.json'))",
          "evil = os.path.abspath('evil.yml')",
          'open(evil, "w").write("run_id: %s\\noutput_dir: %s\\ncommand: \\"true\\"\\npostprocess:\\n  - type: command\\n    command: touch ../../pwned.txt\\n" % (record["run_id"], os.path.dirname(os.getcwd())))',
          "record['detached']['files'] = {'model': evil, 'postprocessors': []}",
          "json.dump(record, open('.modelrun/run.json', 'w'))",
          '',
        ].join('\n'),
      );
      const model = writeModel(runId, 'python3 forge.py', 'template: ./tpl\n');
      expect((await detachOn('slurm.yml', model, 'post.yml')).code).toBe(0);
      expect((await runModelrun(['wait', runId], { cwd: tree.root })).code).toBe(0);
      expect(existsSync(tree.path('pwned.txt'))).toBe(false);
      expect(readFileSync(join(runDir(runId), 'post.txt'), 'utf8')).toBe('once\n');
    },
    clusterTimeout(30_000),
  );

  it(
    'is not postprocessed by a wait on a host that has no entry for it, which says where to wait',
    async () => {
      const runId = uniqueId('detached-elsewhere');
      const model = writeModel(runId, 'true');
      expect((await detachOn('slurm.yml', model, 'post.yml')).code).toBe(0);
      const waited = await runModelrun(['wait', runId], {
        cwd: tree.root,
        env: { XDG_STATE_HOME: tree.path('other-host-state') },
      });
      expect(waited.code).toBe(2);
      expect(waited.stderr).toContain(`${runId} succeeded, but wait cannot postprocess it`);
      expect(existsSync(join(runDir(runId), 'post.txt'))).toBe(false);
    },
    clusterTimeout(30_000),
  );

  it(
    'whose postprocessor file is gone by the time of the wait says postprocessing is still to do',
    async () => {
      const runId = uniqueId('detached-lost-post');
      tree.write('lost-post.yml', 'type: command\ncommand: "echo once >> post.txt"\n');
      const model = writeModel(runId, 'true');
      expect((await detachOn('slurm.yml', model, 'lost-post.yml')).code).toBe(0);
      rmSync(tree.path('lost-post.yml'));
      const waited = await runModelrun(['wait', runId], { cwd: tree.root });
      expect(waited.code).toBe(2);
      expect(waited.stderr).toContain(
        `${runId} succeeded, but its postprocessing is still to do: the files it was made from cannot be loaded again`,
      );
      expect(readRunRecord(runDir(runId))).toMatchObject({
        status: 'succeeded',
        stages: { postprocess: { status: 'pending' } },
      });
      // A new run in its place says what is lost.
      const again = await runModelrun(['run', model, '--backend-config', 'slurm.yml'], {
        cwd: tree.root,
      });
      expect(again.code).toBe(0);
      expect(again.stderr).toContain(
        `the earlier run ${runId} in ${runDir(runId)} succeeded but was never postprocessed`,
      );
    },
    clusterTimeout(30_000),
  );

  it.each([
    [
      'queue_timeout, which only a modelrun watching the queue can keep',
      'queue_timeout: 10m\n',
      '--detach: queue_timeout needs a modelrun that watches the queue',
    ],
    [
      'an output_file that names the node (%N)',
      'output_file: "out-%N.txt"\n',
      "--detach: output_file names the job's node (%N)",
    ],
  ])('is refused with %s, before anything is staged', async (_what, more, message) => {
    const runId = uniqueId('refused');
    tree.write('odd.yml', `type: slurm\n${TEST_JOB_YAML}${more}`);
    const refused = await runInProcess(
      ['run', writeModel(runId, 'true'), '--backend-config', 'odd.yml', '--detach'],
      { cwd: tree.root },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(message);
    expect(existsSync(runDir(runId))).toBe(false);
  });

  it.each([
    ['kept by its script', '3', { status: 'failed', exit_code: 3 }],
    ['of success kept by its script', '0', { status: 'succeeded', exit_code: 0 }],
    ['kept nowhere', undefined, { status: 'failed', exit_code: null }],
    ['kept nowhere, on another cluster', undefined, { status: 'submitted' }, 'elsewhere-cluster'],
  ])(
    'is recorded, once Slurm has forgotten its job, by the exit status %s',
    async (_how, kept, recorded, cluster?: string) => {
      // A job id Slurm does not know: a job it forgot, as it does MinJobAge after the end.
      const runId = uniqueId('forgotten');
      const jobId = '987654321';
      writeForged(runDir(runId), {
        run_id: runId,
        status: 'submitted',
        backend: { type: 'slurm', config: { type: 'slurm' } },
        handle: { kind: 'slurm-job', id: jobId, ...(cluster === undefined ? {} : { cluster }) },
        detached: {
          logs: { stdout: join(runDir(runId), 'out'), stderr: join(runDir(runId), 'err') },
          files: { model: tree.path('none.yml'), postprocessors: [] },
        },
        stages: {
          generate: { status: 'succeeded' },
          run: { status: 'running' },
          postprocess: { status: 'skipped' },
        },
      });
      if (kept !== undefined)
        writeFileSync(join(runDir(runId), '.modelrun', 'job-exit'), `${jobId} ${kept}\n`);
      const status = await runInProcess(['status', runId], { cwd: tree.root });
      expect(status.code).toBe(recorded.status === 'failed' ? 1 : 0);
      expect(readRunRecord(runDir(runId))).toMatchObject(recorded);
      if (cluster !== undefined)
        expect(status.stdout).toMatch(
          /engine +job 987654321 was submitted to cluster elsewhere-cluster, and this host's Slurm is cluster /,
        );
      else if (kept === undefined)
        expect(status.stdout).toMatch(
          /reason +Slurm no longer knows job 987654321, and its script kept no exit status/,
        );
    },
  );
});
