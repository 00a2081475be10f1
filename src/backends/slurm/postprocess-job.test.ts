import { afterAll, describe, expect, it } from 'vitest';
import { setupSlurmRunner } from '../../../test/helpers/slurm-runner.js';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import type { RunJob } from '../contract.js';
import { slurmConfigSchema } from './config.js';
import { postprocessSbatchArgs, postprocessScript } from './postprocess-job.js';

const tree = makeTree({ 'state/': '' });
afterAll(() => tree.remove());
const JOB: RunJob = { runId: 'r1', stagingDir: '/scratch/runs/r1', modelCommand: 'true' };
const config = (fields: Record<string, unknown>) =>
  slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...fields });
const POSTPROCESS = {
  command: ['/opt/node 20/bin/node', "/opt/it's/modelrun.js", 'wait', '/scratch/runs/r1'],
  log: '/home/me/.local/state/modelrun/detached/r1-postprocess-%j.log',
};

describe('the postprocess job of postprocess_on: node', () => {
  it('asks for one task with the run’s CPUs, memory, time, queue, account and qos, and nothing of its GPUs or mail', () => {
    const script = postprocessScript(
      config({
        postprocess_on: 'node',
        queue: 'compute',
        nodes: 4,
        ntasks: 64,
        cpus_per_task: 2,
        mem: '8G',
        time_limit: '2-00:00:00',
        account: 'ocean',
        qos: 'long',
        gpus: 4,
        mail_type: ['END'],
        mail_user: 'me@example.org',
      }),
      JOB,
      POSTPROCESS,
    );
    expect(script.split('\n').filter((line) => line.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name="modelrun-r1-postprocess"',
      '#SBATCH --output="/home/me/.local/state/modelrun/detached/r1-postprocess-%j.log"',
      '#SBATCH --chdir="/scratch/runs/r1"',
      '#SBATCH --partition="compute"',
      '#SBATCH --nodes="1"',
      '#SBATCH --ntasks="1"',
      '#SBATCH --cpus-per-task="2"',
      '#SBATCH --mem="8G"',
      '#SBATCH --time="2-00:00:00"',
      '#SBATCH --account="ocean"',
      '#SBATCH --qos="long"',
    ]);
    expect(script).toContain('export MODELRUN_POSTPROCESS_JOB="$SLURM_JOB_ID"\n');
    expect(script).toContain(
      `exec '/opt/node 20/bin/node' '/opt/it'\\''s/modelrun.js' 'wait' '/scratch/runs/r1'\n`,
    );
  });

  it('waits for the run’s job to succeed, and is cancelled by Slurm when it cannot', () => {
    expect(postprocessSbatchArgs('/scratch/runs/r1', '812')).toEqual([
      '--parsable',
      '--export=ALL',
      '--dependency=afterok:812',
      '--kill-on-invalid-dep=yes',
      '/scratch/runs/r1/slurm-postprocess.sh',
    ]);
  });

  it('is asked for by postprocess_on only: wait is the default', () => {
    expect(config({}).postprocess_on).toBe('wait');
    expect(() => config({ postprocess_on: 'login' })).toThrow(/postprocess_on/);
  });
});

describe('a detached submission with postprocess_on: node', () => {
  const POST = {
    command: ['modelrun', 'wait', '/run'],
    log: tree.path('state', 'r-postprocess-%j.log'),
  };

  it('submits the postprocess job after the run’s, and lets both go', async () => {
    const { runner, slurm, held } = setupSlurmRunner(tree, {
      config: { postprocess_on: 'node' },
    });
    await runner.start(new AbortController().signal);
    const stopper = new AbortController();
    const detached = await runner.detach?.submit(stopper.signal, { submitted: () => {} }, POST);
    expect(slurm.submitted.map((s) => s.args.find((a) => a.startsWith('--dependency')))).toEqual([
      undefined,
      '--dependency=afterok:4242',
    ]);
    expect(detached?.postprocess).toMatchObject({
      handle: { kind: 'slurm-job', id: '4242' },
      log: tree.path('state', 'r-postprocess-4242.log'),
    });
    expect(held()).toEqual([]);
  });

  it('names the cluster in both jobs’ handles, asking Slurm for it once', async () => {
    const { runner, slurm } = setupSlurmRunner(tree, { config: { postprocess_on: 'node' } });
    let asked = 0;
    slurm.cluster = async () => {
      asked++;
      return 'north';
    };
    await runner.start(new AbortController().signal);
    const handles: unknown[] = [];
    const detached = await runner.detach?.submit(
      new AbortController().signal,
      { submitted: (handle) => handles.push(handle) },
      POST,
    );
    expect(handles).toMatchObject([{ kind: 'slurm-job', cluster: 'north' }]);
    expect(detached?.postprocess?.handle).toMatchObject({ kind: 'slurm-job', cluster: 'north' });
    expect(asked).toBe(1);
  });

  it('stopped while the postprocess job is submitted, cancels the run’s job, and lets nothing go', async () => {
    const { runner, slurm, held } = setupSlurmRunner(tree, {
      config: { postprocess_on: 'node' },
    });
    await runner.start(new AbortController().signal);
    const stopper = new AbortController();
    const submit = slurm.submit.bind(slurm);
    slurm.submit = async (args, secrets) => {
      const id = await submit(args, secrets);
      // Ctrl-C as the second sbatch returns.
      if (args.some((arg) => arg.startsWith('--dependency'))) stopper.abort();
      return id;
    };
    const detached = await runner.detach?.submit(stopper.signal, { submitted: () => {} }, POST);
    expect(detached).toBeUndefined();
    expect(slurm.calls).toContain('scancel 4242');
    expect(held()).toEqual([]);
  });

  it('leaves the postprocessing to wait when it is not asked for: one job only', async () => {
    const { runner, slurm } = setupSlurmRunner(tree);
    await runner.start(new AbortController().signal);
    const detached = await runner.detach?.submit(
      new AbortController().signal,
      { submitted: () => {} },
      POST,
    );
    expect(slurm.submitted).toHaveLength(1);
    expect(detached).not.toHaveProperty('postprocess');
  });
});
