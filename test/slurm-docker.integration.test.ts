import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { startModelrun } from './helpers/cli.js';
import {
  dockerUnavailable,
  ensureTestImages,
  reportMissingEngine,
  slurmUnavailable,
} from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitFor } from './helpers/processes.js';
import { waitForGuardian } from './helpers/run-record.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable() ?? dockerUnavailable();
reportMissingEngine('slurm and docker', missing);

/** Every job here asks for little, as the strict cluster wants, so that jobs of others can run beside it. */
const SMALL_JOB = 'type: slurm\ncpus_per_task: 1\nmem: 200M\ntime_limit: "00:05:00"\n';
const CONTAINER =
  'container:\n  type: docker\n  image: modelrun-test/busybox\n  pull_policy: never\n';

/** A test's budget: its job may wait minutes behind the jobs of others on the shared cluster. */
const QUEUED_MS = 420_000;

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** The containers, running or not, that carry a run's label. */
function containersOf(runId: string): string[] {
  return docker('ps', '-aq', '--filter', `label=modelrun.run_id=${runId}`)
    .split('\n')
    .filter(Boolean);
}

/** Until the run's container runs: the job may queue behind others first. */
const containerRunning = (runId: string) =>
  waitFor(
    () => docker('ps', '-q', '--filter', `label=modelrun.run_id=${runId}`).length > 0,
    QUEUED_MS - 60_000,
  );

describe.skipIf(missing !== undefined)('a docker container in a Slurm job', () => {
  let tree: Tree | undefined;
  let runId = '';
  afterEach(() => {
    for (const id of containersOf(runId)) docker('rm', '--force', id);
    execFileSync('scancel', ['--name', `modelrun-${runId}`]);
    tree?.remove();
  });

  const newRun = (model: string, backend: string) => {
    ensureTestImages();
    runId = uniqueId('sd');
    tree = makeTree({
      'model.yml': `run_id: ${runId}\ncommand: ${JSON.stringify(model)}\n`,
      'slurm.yml': SMALL_JOB + CONTAINER + backend,
    });
    return tree;
  };

  /** A run whose model ignores SIGTERM, once its container runs. */
  const startIgnoringTerm = async () => {
    const root = newRun('echo started; trap "" TERM; sleep 300', '').root;
    const started = await startModelrun(['run', 'model.yml', '--backend-config', 'slurm.yml'], {
      cwd: root,
    });
    expect(await containerRunning(runId)).toBe(true);
    return { root, ...started };
  };

  it(
    'is stopped and removed on Ctrl-C, though its model ignores SIGTERM',
    async () => {
      const { child, exited } = await startIgnoringTerm();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(await waitFor(() => containersOf(runId).length === 0, 30_000)).toBe(true);
    },
    QUEUED_MS,
  );

  it(
    'is stopped and removed when modelrun is killed with SIGKILL: its guardian cancels the job',
    async () => {
      const { root, child, exited } = await startIgnoringTerm();
      child.kill('SIGKILL');
      await exited;
      expect(await waitFor(() => containersOf(runId).length === 0, 60_000)).toBe(true);
      expect(await waitForGuardian(join(root, 'simulations', runId), 60_000)).toMatchObject({
        status: 'failed',
      });
    },
    QUEUED_MS,
  );

  it.each([
    ["the job's mem and cpus_per_task", {}, 500 * 1024 ** 2],
    ["the container's own memory over the job's", { memory: '300m' }, 300 * 1024 ** 2],
  ])(
    'has %s as its limits, and the run and job labels',
    async (_, own, memory) => {
      tree = makeTree();
      runId = uniqueId('sd');
      ensureTestImages();
      const { request, deps, runJson } = pipelineHarness(
        tree,
        { run_id: runId, command: 'true' },
        {
          type: 'slurm',
          cpus_per_task: 1,
          mem: '500M',
          time_limit: '00:05:00',
          container: {
            type: 'docker',
            image: 'modelrun-test/busybox',
            pull_policy: 'never',
            // Kept, so that its settings can be read back once it has run.
            remove_container: false,
            ...own,
          },
        },
      );
      expect((await runPipeline(request, deps)).exitCode).toBe(0);
      const [id] = containersOf(runId);
      const inspected = JSON.parse(docker('inspect', id ?? '')) as {
        HostConfig: { Memory: number; MemorySwap: number; NanoCpus: number };
        Config: { Labels: Record<string, string> };
      }[];
      const { HostConfig, Config } = inspected[0] ?? ({} as never);
      expect(HostConfig).toMatchObject({ Memory: memory, MemorySwap: memory, NanoCpus: 1e9 });
      expect(Config.Labels).toMatchObject({
        'modelrun.run_id': runId,
        'modelrun.staging_dir': join(tree.root, 'simulations', runId),
        'modelrun.version': expect.any(String),
        'modelrun.slurm_job_id': runJson().backend.details.job_id,
      });
    },
    QUEUED_MS,
  );

  it(
    'gets a secret by name: in the container, but in no docker argv and no file of the staging dir',
    async () => {
      const secret = `tok-${randomBytes(8).toString('hex')}`;
      const variable = `SD_SECRET_${randomBytes(4).toString('hex')}`;
      const root = newRun(
        'echo "$API_TOKEN" | sha256sum > seen.txt; echo started; while [ ! -e go ]; do sleep 0.2; done',
        `env_vars:\n  API_TOKEN: \${${variable}}\n`,
      ).root;
      const staging = join(root, 'simulations', runId);
      process.env[variable] = secret;
      try {
        const { exited } = await startModelrun(
          ['run', 'model.yml', '--backend-config', 'slurm.yml'],
          { cwd: root },
        );
        expect(await waitFor(() => filesOf(staging).includes('seen.txt'), QUEUED_MS - 60_000)).toBe(
          true,
        );
        expect(readFileSync(join(staging, 'seen.txt'), 'utf8').split(' ')[0]).toBe(
          createHash('sha256').update(`${secret}\n`).digest('hex'),
        );
        const clients = dockerRunArgvs(runId);
        expect(clients.length).toBeGreaterThan(0);
        expect(clients.join('\n')).toContain('--env API_TOKEN ');
        expect(clients.join('\n')).not.toContain(secret);
        const holding = (files: string[]) =>
          files.filter((file) => readFileSync(join(staging, file), 'utf8').includes(secret));
        expect(holding(filesOf(staging))).toEqual([]);
        docker('exec', containersOf(runId)[0] ?? '', 'touch', 'go');
        expect(await exited).toBe(0);
        expect(holding(filesOf(staging))).toEqual([]);
      } finally {
        delete process.env[variable];
      }
    },
    QUEUED_MS,
  );
});

/** Every file under a folder, as paths relative to it. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

/** The command lines of the `docker run` clients that start a run's container, from /proc. */
function dockerRunArgvs(runId: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    })
    .filter((line) => line.startsWith('docker run ') && line.includes(`modelrun.run_id=${runId}`));
}
