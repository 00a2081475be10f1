import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { REPO_ROOT, runModelrun } from './helpers/cli.js';
import {
  dockerUnavailable,
  ensureTestImages,
  reportMissingEngine,
  slurmUnavailable,
} from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitForGuardian } from './helpers/run-record.js';
import {
  clusterTimeout,
  queued,
  runOnCluster,
  runOnClusterCli,
  slurmJob,
  slurmTestBackend,
  startOnCluster,
  TEST_JOB_YAML,
} from './helpers/slurm.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** How long a test's job may take once it runs; the queue wait comes on top. */
const RUN_MS = 30_000;

/*
 * Every job asks for one CPU, a little memory and a time limit (see
 * TEST_JOB), and every run id and job name has a random part, so these tests
 * pass on a strict cluster, beside another checkout's jobs.
 */
describe.skipIf(missing !== undefined)('the slurm backend, against a real cluster', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  it(
    'runs a job staged in a folder whose path holds a %, which Slurm does not read as a pattern',
    async () => {
      tree = makeTree();
      const runId = uniqueId('slurm-percent');
      const h = pipelineHarness(
        tree,
        { run_id: runId, output_dir: './50%x %j sims', command: 'echo from the job' },
        slurmTestBackend(),
      );
      expect(h.staging).toContain('50%x %j sims');
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(0);
      expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toBe('from the job\n');
      const id = h.runJson().backend.details.job_id;
      expect(existsSync(join(h.staging, 'logs', `slurm-${id}.out`))).toBe(true);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'runs a job, streams its output into the logs and records the job id',
    async () => {
      tree = makeTree();
      const runId = uniqueId('slurm-ok');
      const h = pipelineHarness(
        tree,
        { run_id: runId, command: 'echo "on $(hostname)"; echo note >&2' },
        slurmTestBackend(),
      );
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(0);
      expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toMatch(/^on \S+\n$/);
      expect(readFileSync(join(h.staging, 'logs', 'stderr.log'), 'utf8')).toBe('note\n');
      const record = h.runJson();
      expect(record).toMatchObject({
        status: 'succeeded',
        exit_code: 0,
        backend: { details: { job_id: expect.stringMatching(/^\d+$/) } },
      });
      expect(h.captured.status).toContain(
        `submitted batch job ${record.backend.details.job_id} (modelrun-${runId}); script ${h.staging}/slurm-job.sh`,
      );
      expect(h.captured.status.some((line) => /^job \d+ COMPLETED$/.test(line))).toBe(true);
      expect(readFileSync(join(h.staging, 'slurm-job.sh'), 'utf8')).toContain(
        `#SBATCH --job-name="modelrun-${runId}"`,
      );
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'follows output files named with the node, job name, user and a padded job id',
    async () => {
      tree = makeTree({ 'joblogs/': '' });
      const runId = uniqueId('slurm-patterns');
      const h = pipelineHarness(
        tree,
        { run_id: runId, command: 'echo out; echo err >&2' },
        slurmTestBackend({
          output_file: tree.path('joblogs', '%x_%N_%u_%12j.out'),
          error_file: tree.path('joblogs', '%x_%N_%u_%12j.err'),
        }),
      );
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(0);
      expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toBe('out\n');
      expect(readFileSync(join(h.staging, 'logs', 'stderr.log'), 'utf8')).toBe('err\n');
      const id = h.runJson().backend.details.job_id as string;
      const node = slurmJob(id).BatchHost;
      const name = `modelrun-${runId}_${node}_${userInfo().username}_${id.padStart(10, '0')}`;
      expect(readFileSync(tree.path('joblogs', `${name}.out`), 'utf8')).toBe('out\n');
    },
    clusterTimeout(RUN_MS),
  );

  it(
    "takes a failed job's exit code from ExitCode=N:S",
    async () => {
      tree = makeTree();
      const h = pipelineHarness(
        tree,
        { run_id: uniqueId('slurm-exit'), command: 'exit 4' },
        slurmTestBackend(),
      );
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(1);
      expect(h.runJson()).toMatchObject({ status: 'failed', exit_code: 4 });
    },
    clusterTimeout(RUN_MS),
  );

  it('asks for the cpus, memory and time limit given, read back with scontrol show job', async () => {
    tree = makeTree();
    const jobName = uniqueId('sized');
    // Held, so that it is never started: two CPUs are all this cluster may
    // have, and the test needs the request, not the allocation.
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('slurm-sized'), command: 'true' },
      slurmTestBackend({
        cpus_per_task: 2,
        mem: '300M',
        time_limit: '00:10:00',
        job_name: jobName,
        additional_options: ['--hold'],
        // Held jobs never start: waiting in the queue ends it, as the run's timeout would not.
        queue_timeout: '3s',
      }),
    );
    await runPipeline(request, deps);
    const job = slurmJob(runJson().backend.details.job_id);
    expect(job).toMatchObject({
      JobState: 'CANCELLED',
      NumCPUs: '2',
      'CPUs/Task': '2',
      MinMemoryNode: '300M',
      TimeLimit: '00:10:00',
      JobName: jobName,
    });
  });

  it(
    'exports env_vars with spaces, quotes and $ exactly as written',
    async () => {
      tree = makeTree();
      const value = `it's "quoted" $HOME \\n and spaces`;
      const h = pipelineHarness(
        tree,
        { run_id: uniqueId('slurm-env'), command: 'printf "%s" "$TRICKY"' },
        slurmTestBackend({ env_vars: { TRICKY: value } }),
      );
      await runOnCluster(h, { runMs: RUN_MS });
      expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toBe(value);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'gives the job its secrets without writing them into the kept script or a file',
    async () => {
      tree = makeTree();
      const secret = uniqueId('tok');
      const h = pipelineHarness(
        tree,
        { run_id: uniqueId('slurm-secret'), command: 'printf "%s %s" "$API_TOKEN" "$OTHER"' },
        // OTHER is not secret-named, but holds the secret: masked by value, so kept out too.
        slurmTestBackend({ env_vars: { API_TOKEN: secret, OTHER: secret } }),
      );
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(0);
      expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toBe(
        `${secret} ${secret}`,
      );
      expect(readFileSync(join(h.staging, 'slurm-job.sh'), 'utf8')).not.toContain(secret);
      expect(existsSync(join(h.staging, '.modelrun', 'slurm-secrets.env'))).toBe(false);
    },
    clusterTimeout(RUN_MS),
  );

  it('refuses to submit while a symlink sits where Slurm writes the output, submitting nothing', async () => {
    tree = makeTree({ 'outside/file': 'precious\n' });
    const runId = uniqueId('links');
    const { request, deps, staging } = pipelineHarness(
      tree,
      { run_id: runId, command: 'echo from the job' },
      slurmTestBackend(),
    );
    mkdirSync(join(staging, 'logs'), { recursive: true });
    symlinkSync(tree.path('outside', 'file'), join(staging, 'logs', 'slurm-1.out'));
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /logs\/slurm-1\.out is a symlink where Slurm writes the job's output/,
    );
    expect(queued(`modelrun-${runId}`)).toEqual([]);
    expect(readFileSync(tree.path('outside', 'file'), 'utf8')).toBe('precious\n');
  });

  it("refuses a bad partition with the scheduler's message, leaving nothing queued", async () => {
    tree = makeTree();
    const runId = uniqueId('bad-queue');
    const { request, deps } = pipelineHarness(
      tree,
      { run_id: runId, command: 'true' },
      slurmTestBackend({ queue: 'no-such-partition' }),
    );
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /sbatch failed: sbatch: error: .*[Ii]nvalid partition/,
    );
    expect(queued(`modelrun-${runId}`)).toEqual([]);
  });

  it(
    'cancels the job when the run times out, and confirms it is gone',
    async () => {
      tree = makeTree();
      const runId = uniqueId('slurm-timeout');
      // The 2 s count once the job runs; it may first wait behind other jobs.
      const { request, deps, runJson } = pipelineHarness(
        tree,
        { run_id: runId, command: 'sleep 300' },
        slurmTestBackend(),
      );
      const result = await runPipeline(request, { ...deps, timeoutMs: 2000 });
      expect(result.exitCode).toBe(1);
      const record = runJson();
      expect(record).toMatchObject({ status: 'timed_out', reason: 'timed out after 2 s' });
      expect(slurmJob(record.backend.details.job_id).JobState).toBe('CANCELLED');
      expect(queued(`modelrun-${runId}`)).toEqual([]);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'on Ctrl-C while sbatch is still submitting, cancels the job once it has an id',
    async () => {
      tree = makeTree();
      // An sbatch that takes its time to submit, as on a busy controller, and says when it began.
      const real = execFileSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).trim();
      mkdirSync(tree.path('bin'));
      writeFileSync(
        tree.path('bin', 'sbatch'),
        `#!/bin/sh\ncase "$1" in --parsable) touch "${tree.path('sbatch-began')}"; sleep 2 ;; esac\nexec ${real} "$@"\n`,
        { mode: 0o755 },
      );
      const runId = uniqueId('slurm-submitting');
      const h = pipelineHarness(tree, { run_id: runId, command: 'sleep 120' }, slurmTestBackend());
      const deps = {
        ...h.deps,
        env: { ...process.env, PATH: `${tree.path('bin')}:${process.env.PATH}` },
      };
      const run = runPipeline(h.request, deps);
      for (let i = 0; i < 200 && !existsSync(tree.path('sbatch-began')); i++) await sleep(50);
      h.session.interrupt('SIGINT');
      const started = Date.now();
      await run;
      // Before, the job was followed to its end: two minutes, not seconds.
      expect(Date.now() - started).toBeLessThan(60_000);
      const record = h.runJson();
      expect(record).toMatchObject({ status: 'cancelled', exit_code: null });
      expect(slurmJob(record.backend.details.job_id).JobState).toBe('CANCELLED');
      expect(queued(`modelrun-${runId}`)).toEqual([]);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'on Ctrl-C, cancels the running job, records cancelled and exits 130',
    async () => {
      const runId = uniqueId('slurm-ctrl-c');
      tree = makeTree({
        'model.yml': `run_id: ${runId}\ncommand: "echo started; sleep 300"\n`,
        'slurm.yml': `type: slurm\n${TEST_JOB_YAML}`,
      });
      const { child, exited } = await startOnCluster(
        ['run', 'model.yml', '--backend-config', 'slurm.yml'],
        { cwd: tree.root, jobName: `modelrun-${runId}` },
      );
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      const record = JSON.parse(
        readFileSync(tree.path('simulations', runId, '.modelrun', 'run.json'), 'utf8'),
      );
      expect(record).toMatchObject({ status: 'cancelled', reason: 'cancelled by SIGINT' });
      expect(slurmJob(record.backend.details.job_id).JobState).toBe('CANCELLED');
      expect(queued(`modelrun-${runId}`)).toEqual([]);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'killed with SIGKILL, still leaves no job behind: its guardian cancels it',
    async () => {
      const runId = uniqueId('slurm-killed');
      tree = makeTree({
        'model.yml': `run_id: ${runId}\ncommand: "echo started; sleep 300"\n`,
        'slurm.yml': `type: slurm\n${TEST_JOB_YAML}`,
      });
      const { child, exited, jobId } = await startOnCluster(
        ['run', 'model.yml', '--backend-config', 'slurm.yml'],
        { cwd: tree.root, jobName: `modelrun-${runId}` },
      );
      expect(jobId).toMatch(/^\d+$/);
      child.kill('SIGKILL');
      await exited;
      for (let i = 0; i < 100 && queued(`modelrun-${runId}`).length > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(queued(`modelrun-${runId}`)).toEqual([]);
      expect(slurmJob(jobId ?? '').JobState).toBe('CANCELLED');
      expect(await waitForGuardian(tree.path('simulations', runId))).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^modelrun ended before the run did/),
      });
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'runs the example wave model unchanged',
    async () => {
      // The model's run_id is fixed; the job name keeps this job apart from another checkout's.
      const jobName = uniqueId('wave');
      tree = makeTree({
        'slurm.yml': `type: slurm\ncpus_per_task: 1\nmem: 500M\ntime_limit: "00:05:00"\njob_name: ${jobName}\n`,
      });
      cpSync(join(REPO_ROOT, 'examples', 'wave'), tree.path('wave'), {
        recursive: true,
        filter: (src) => !src.includes('simulations'),
      });
      const result = await runOnClusterCli(
        ['run', 'wave/model.yml', '--backend-config', 'slurm.yml'],
        { cwd: tree.root, jobName },
      );
      expect(result.stderr).toContain('✓ wave-demo succeeded');
      expect(result.code).toBe(0);
      expect(
        readFileSync(tree.path('wave', 'simulations', 'wave-demo', 'logs', 'stdout.log'), 'utf8'),
      ).toContain('wave: done');
    },
    clusterTimeout(60_000),
  );

  it(
    'runs a config that extends a site base, under the site config, with --set over both',
    async () => {
      const jobName = uniqueId('layers');
      const runId = uniqueId('slurm-layers');
      tree = makeTree({
        // A site's shared base: what every project's jobs ask for, and a script beside it.
        'site/slurm-base.yml': `type: slurm\n${TEST_JOB_YAML}env_vars:\n  FROM_BASE: base\n  FROM_SET: base\n`,
        'site/site.yml': 'backends:\n  slurm:\n    env_vars:\n      FROM_SITE: site\n',
        'project/slurm.yml': `extends: ../site/slurm-base.yml\njob_name: ${jobName}\n`,
        'project/model.yml': `run_id: ${runId}\ncommand: echo "$FROM_SITE $FROM_BASE $FROM_SET"\n`,
      });
      const env = { MODELRUN_SITE_CONFIG: tree.path('site', 'site.yml') };
      const valid = await runModelrun(['backends', 'validate', 'slurm.yml'], {
        cwd: tree.path('project'),
        env,
      });
      expect(valid.stdout).toContain('✓ slurm.yml');
      const result = await runOnClusterCli(
        [
          'run',
          'model.yml',
          '--backend-config',
          'slurm.yml',
          '--set',
          'backend.env_vars.FROM_SET=set',
        ],
        { cwd: tree.path('project'), jobName, env },
      );
      expect(result.stderr).toContain(`✓ ${runId} succeeded`);
      expect(result.code).toBe(0);
      const staging = tree.path('project', 'simulations', runId);
      expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe('site base set\n');
      const record = JSON.parse(readFileSync(join(staging, '.modelrun', 'run.json'), 'utf8'));
      expect(record).toMatchObject({
        overrides: ['--set backend.env_vars.FROM_SET=set'],
        site_config: tree.path('site', 'site.yml'),
      });
    },
    clusterTimeout(RUN_MS),
  );

  it.skipIf(dockerUnavailable() !== undefined)(
    'runs the command in a docker container on the node',
    async () => {
      ensureTestImages();
      tree = makeTree();
      const h = pipelineHarness(
        tree,
        {
          run_id: uniqueId('slurm-docker'),
          command: 'cat /etc/os-release 2>/dev/null || echo busybox; echo "$MODE" > mode.txt',
        },
        slurmTestBackend({
          env_vars: { MODE: 'in-container' },
          container: { type: 'docker', image: 'modelrun-test/busybox', pull_policy: 'never' },
        }),
      );
      expect((await runOnCluster(h, { runMs: RUN_MS })).exitCode).toBe(0);
      expect(readFileSync(join(h.staging, 'mode.txt'), 'utf8')).toBe('in-container\n');
      expect(readFileSync(join(h.staging, 'slurm-job.sh'), 'utf8')).toMatch(
        /^docker run --name "\$modelrun_container" .* --rm --init .* modelrun-test\/busybox \/bin\/sh -c .* &$/m,
      );
    },
    clusterTimeout(RUN_MS),
  );

  it('a test whose job never starts fails with the pending reason, and leaves the job cancelled', async () => {
    tree = makeTree();
    const runId = uniqueId('slurm-held');
    const h = pipelineHarness(
      tree,
      { run_id: runId, command: 'true' },
      slurmTestBackend({ additional_options: ['--hold'] }),
    );
    await expect(runOnCluster(h, { runMs: RUN_MS, queueMs: 3000 })).rejects.toThrow(
      /^job \d+ is still PENDING after \d+ s \(Reason=JobHeldUser\); the queue:\n/,
    );
    expect(queued(`modelrun-${runId}`)).toEqual([]);
    expect(h.runJson()).toMatchObject({ status: 'cancelled' });
  });

  it('backends list shows the cluster and its partitions', async () => {
    const result = await runModelrun(['backends', 'list', '--json']);
    const { backends } = JSON.parse(result.stdout) as {
      backends: { type: string; available: boolean; detail: string }[];
    };
    expect(backends.find((b) => b.type === 'slurm')).toMatchObject({
      available: true,
      detail: expect.stringMatching(
        /^cluster \S+, Slurm \d+\.\d+\.\d+; partitions: \S+\* \(up, \d+ nodes?\)/,
      ),
    });
  });
});
