import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { REPO_ROOT, runModelrun, startModelrun } from './helpers/cli.js';
import {
  dockerUnavailable,
  ensureTestImages,
  reportMissingEngine,
  slurmJob,
  slurmUnavailable,
} from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitForGuardian } from './helpers/run-record.js';
import { makeTree, type Tree } from './helpers/tree.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** Jobs of ours still queued or running, by name. */
function queued(name: string): string[] {
  return execFileSync('squeue', ['-h', '-n', name, '-o', '%i %T'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
}

describe.skipIf(missing !== undefined)('the slurm backend, against a real cluster', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  it('runs a job, streams its output into the logs and records the job id', async () => {
    tree = makeTree();
    const { request, deps, staging, runJson, captured } = pipelineHarness(
      tree,
      { run_id: 'slurm-ok', command: 'echo "on $(hostname)"; echo note >&2' },
      { type: 'slurm' },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toMatch(/^on \S+\n$/);
    expect(readFileSync(join(staging, 'logs', 'stderr.log'), 'utf8')).toBe('note\n');
    const record = runJson();
    expect(record).toMatchObject({
      status: 'succeeded',
      exit_code: 0,
      backend: { details: { job_id: expect.stringMatching(/^\d+$/) } },
    });
    expect(captured.status).toContain(
      `submitted batch job ${record.backend.details.job_id} (modelrun-slurm-ok); script ${staging}/slurm-job.sh`,
    );
    expect(captured.status.some((line) => /^job \d+ COMPLETED$/.test(line))).toBe(true);
    expect(readFileSync(join(staging, 'slurm-job.sh'), 'utf8')).toContain(
      '#SBATCH --job-name=modelrun-slurm-ok',
    );
  });

  it('follows output files named with the node, job name, user and a padded job id', async () => {
    tree = makeTree({ 'joblogs/': '' });
    const { request, deps, staging, runJson } = pipelineHarness(
      tree,
      { run_id: 'slurm-patterns', command: 'echo out; echo err >&2' },
      {
        type: 'slurm',
        output_file: tree.path('joblogs', '%x_%N_%u_%12j.out'),
        error_file: tree.path('joblogs', '%x_%N_%u_%12j.err'),
      },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe('out\n');
    expect(readFileSync(join(staging, 'logs', 'stderr.log'), 'utf8')).toBe('err\n');
    const id = runJson().backend.details.job_id as string;
    const node = slurmJob(id).BatchHost;
    const name = `modelrun-slurm-patterns_${node}_${userInfo().username}_${id.padStart(10, '0')}`;
    expect(readFileSync(tree.path('joblogs', `${name}.out`), 'utf8')).toBe('out\n');
  });

  it("takes a failed job's exit code from ExitCode=N:S", async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { command: 'exit 4' },
      { type: 'slurm' },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    expect(runJson()).toMatchObject({ status: 'failed', exit_code: 4 });
  });

  it('gives the job the cpus and memory asked for, read back with scontrol show job', async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { command: 'true' },
      { type: 'slurm', cpus_per_task: 2, mem: '300M', time_limit: '00:10:00', job_name: 'sized' },
    );
    await runPipeline(request, deps);
    const job = slurmJob(runJson().backend.details.job_id);
    expect(job).toMatchObject({
      NumCPUs: '2',
      'CPUs/Task': '2',
      MinMemoryNode: '300M',
      TimeLimit: '00:10:00',
      JobName: 'sized',
    });
  });

  it('exports env_vars with spaces, quotes and $ exactly as written', async () => {
    tree = makeTree();
    const value = `it's "quoted" $HOME \\n and spaces`;
    const { request, deps, staging } = pipelineHarness(
      tree,
      { command: 'printf "%s" "$TRICKY"' },
      { type: 'slurm', env_vars: { TRICKY: value } },
    );
    await runPipeline(request, deps);
    expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe(value);
  });

  it('gives the job its secrets without writing them into the kept script or a file', async () => {
    tree = makeTree();
    const secret = `tok-${Math.random().toString(36).slice(2)}`;
    const { request, deps, staging } = pipelineHarness(
      tree,
      { command: 'printf "%s %s" "$API_TOKEN" "$OTHER"' },
      // OTHER is not secret-named, but holds the secret: masked by value, so kept out too.
      { type: 'slurm', env_vars: { API_TOKEN: secret, OTHER: secret } },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe(`${secret} ${secret}`);
    expect(readFileSync(join(staging, 'slurm-job.sh'), 'utf8')).not.toContain(secret);
    expect(existsSync(join(staging, '.modelrun', 'slurm-secrets.env'))).toBe(false);
  });

  it('refuses to submit while a symlink sits where Slurm writes the output, submitting nothing', async () => {
    tree = makeTree({ 'outside/file': 'precious\n' });
    const runId = `links-${randomBytes(3).toString('hex')}`;
    const { request, deps, staging } = pipelineHarness(
      tree,
      { run_id: runId, command: 'echo from the job' },
      { type: 'slurm' },
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
    const { request, deps } = pipelineHarness(
      tree,
      { run_id: 'bad-queue', command: 'true' },
      { type: 'slurm', queue: 'no-such-partition' },
    );
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /sbatch failed: sbatch: error: .*[Ii]nvalid partition/,
    );
    expect(queued('modelrun-bad-queue')).toEqual([]);
  });

  it('cancels the job when the run times out, and confirms it is gone', async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: 'slurm-timeout', command: 'sleep 300' },
      { type: 'slurm' },
    );
    const result = await runPipeline(request, { ...deps, timeoutMs: 2000 });
    expect(result.exitCode).toBe(1);
    const record = runJson();
    expect(record).toMatchObject({ status: 'timed_out', reason: 'timed out after 2 s' });
    expect(slurmJob(record.backend.details.job_id).JobState).toBe('CANCELLED');
    expect(queued('modelrun-slurm-timeout')).toEqual([]);
  });

  it('on Ctrl-C, cancels the job, records cancelled and exits 130', async () => {
    tree = makeTree({
      'model.yml': 'run_id: slurm-ctrl-c\ncommand: "echo started; sleep 300"\n',
      'slurm.yml': 'type: slurm\n',
    });
    const { child, exited } = await startModelrun(
      ['run', 'model.yml', '--backend-config', 'slurm.yml'],
      { cwd: tree.root },
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const record = JSON.parse(
      readFileSync(tree.path('simulations', 'slurm-ctrl-c', '.modelrun', 'run.json'), 'utf8'),
    );
    expect(record).toMatchObject({ status: 'cancelled', reason: 'cancelled by SIGINT' });
    expect(slurmJob(record.backend.details.job_id).JobState).toBe('CANCELLED');
    expect(queued('modelrun-slurm-ctrl-c')).toEqual([]);
  });

  it('killed with SIGKILL, still leaves no job behind: its guardian cancels it', async () => {
    tree = makeTree({
      'model.yml': 'run_id: slurm-killed\ncommand: "echo started; sleep 300"\n',
      'slurm.yml': 'type: slurm\n',
    });
    const { child, exited } = await startModelrun(
      ['run', 'model.yml', '--backend-config', 'slurm.yml'],
      { cwd: tree.root },
    );
    const [id] = (queued('modelrun-slurm-killed')[0] ?? '').split(' ');
    expect(id).toMatch(/^\d+$/);
    child.kill('SIGKILL');
    await exited;
    for (let i = 0; i < 100 && queued('modelrun-slurm-killed').length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queued('modelrun-slurm-killed')).toEqual([]);
    expect(slurmJob(id ?? '').JobState).toBe('CANCELLED');
    expect(await waitForGuardian(tree.path('simulations', 'slurm-killed'))).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^modelrun ended before the run did/),
    });
  });

  it('runs the example wave model unchanged', async () => {
    tree = makeTree({
      'slurm.yml': 'type: slurm\ncpus_per_task: 1\nmem: 500M\ntime_limit: "00:05:00"\n',
    });
    cpSync(join(REPO_ROOT, 'examples', 'wave'), tree.path('wave'), {
      recursive: true,
      filter: (src) => !src.includes('simulations'),
    });
    const result = await runModelrun(['run', 'wave/model.yml', '--backend-config', 'slurm.yml'], {
      cwd: tree.root,
    });
    expect(result.stderr).toContain('✓ wave-demo succeeded');
    expect(result.code).toBe(0);
    expect(
      readFileSync(tree.path('wave', 'simulations', 'wave-demo', 'logs', 'stdout.log'), 'utf8'),
    ).toContain('wave: done');
  });

  it.skipIf(dockerUnavailable() !== undefined)(
    'runs the command in a docker container on the node',
    async () => {
      ensureTestImages();
      tree = makeTree();
      const { request, deps, staging } = pipelineHarness(
        tree,
        { command: 'cat /etc/os-release 2>/dev/null || echo busybox; echo "$MODE" > mode.txt' },
        {
          type: 'slurm',
          env_vars: { MODE: 'in-container' },
          container: { type: 'docker', image: 'modelrun-test/busybox', pull_policy: 'never' },
        },
      );
      expect((await runPipeline(request, deps)).exitCode).toBe(0);
      expect(readFileSync(join(staging, 'mode.txt'), 'utf8')).toBe('in-container\n');
      expect(readFileSync(join(staging, 'slurm-job.sh'), 'utf8')).toMatch(
        /^docker run --rm --init .* modelrun-test\/busybox \/bin\/sh -c /m,
      );
    },
  );

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
