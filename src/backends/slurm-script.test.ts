import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { ConfigError } from '../errors.js';
import { slurmConfigSchema } from './slurm-config.js';
import {
  batchScript,
  containerCommand,
  jobCommand,
  secretEnv,
  secretsFileText,
} from './slurm-script.js';
import type { RunJob } from './types.js';

const tree = makeTree({ 'data/': '' });
afterAll(() => tree.remove());
const JOB: RunJob = {
  runId: 'r1',
  stagingDir: '/scratch/runs/r1',
  modelCommand: 'node wave.mjs input.json',
};
const config = (fields: Record<string, unknown>) =>
  slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...fields });
const script = (fields: Record<string, unknown>) => {
  const c = config(fields);
  return batchScript(c, JOB, jobCommand(c, JOB, containerCommand(c, JOB, '/cache/img.sif')));
};

describe('the job command', () => {
  it('fails as a config error naming both places when neither the model nor the config has one', () => {
    const c = config({});
    let thrown: unknown;
    try {
      jobCommand(c, { ...JOB, modelCommand: undefined }, containerCommand(c, JOB, undefined));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe('there is no command to run');
    expect((thrown as ConfigError).hint).toBe(
      'set `command:` in the model file, or `command:` in the slurm backend config',
    );
  });

  it("takes the config's command over the model's", () => {
    expect(jobCommand(config({ command: 'srun ./ww3' }), JOB, undefined)).toBe('srun ./ww3');
  });
});

describe('the batch script', () => {
  it('has the defaults: a job name, output files under logs/, and the staging dir as its folder', () => {
    const [shebang, comment, ...rest] = script({}).split('\n');
    expect(shebang).toBe('#!/bin/bash');
    expect(comment).toMatch(/^# Written by modelrun \S+ for run r1/);
    expect(rest).toEqual([
      '#SBATCH --job-name=modelrun-r1',
      '#SBATCH --output=/scratch/runs/r1/logs/slurm-%j.out',
      '#SBATCH --error=/scratch/runs/r1/logs/slurm-%j.err',
      '#SBATCH --chdir=/scratch/runs/r1',
      '',
      'node wave.mjs input.json',
      '',
    ]);
  });

  it.each([
    [{ queue: 'compute' }, '#SBATCH --partition=compute'],
    [{ nodes: 2 }, '#SBATCH --nodes=2'],
    [{ ntasks: 8 }, '#SBATCH --ntasks=8'],
    [{ cpus_per_task: 4 }, '#SBATCH --cpus-per-task=4'],
    [{ mem: '16G' }, '#SBATCH --mem=16G'],
    [{ mem_per_cpu: '2G' }, '#SBATCH --mem-per-cpu=2G'],
    [{ time_limit: '1-12:00:00' }, '#SBATCH --time=1-12:00:00'],
    [{ account: 'ocean' }, '#SBATCH --account=ocean'],
    [{ qos: 'long' }, '#SBATCH --qos=long'],
    [{ reservation: 'r1' }, '#SBATCH --reservation=r1'],
    [{ constraint: 'skylake' }, '#SBATCH --constraint=skylake'],
    [{ gres: 'gpu:2' }, '#SBATCH --gres=gpu:2'],
    [{ gpus: 'a100:2' }, '#SBATCH --gpus=a100:2'],
    [{ exclusive: true }, '#SBATCH --exclusive'],
    [{ job_name: 'wave' }, '#SBATCH --job-name=wave'],
    [{ output_file: '/scratch/o-%j.txt' }, '#SBATCH --output=/scratch/o-%j.txt'],
    [
      { mail_type: ['END', 'FAIL'], mail_user: 'me@example.org' },
      '#SBATCH --mail-type=END,FAIL\n#SBATCH --mail-user=me@example.org',
    ],
    [
      { additional_options: ['--requeue', '--licenses=matlab:1'] },
      '#SBATCH --requeue\n#SBATCH --licenses=matlab:1',
    ],
    [{ command: 'srun ./model' }, '\nsrun ./model\n'],
  ])('%j gives %s', (fields, line) => {
    expect(script(fields)).toContain(line);
  });

  it('exports env_vars so that the shell reads back spaces, quotes, $ and backslashes exactly', () => {
    const value = `it's "quoted" $HOME \\ and	tab`;
    const text = script({ env_vars: { TRICKY: value }, command: 'printf %s "$TRICKY"' });
    expect(execFileSync('bash', ['-c', text], { encoding: 'utf8' })).toBe(value);
  });

  it('holds no secret value: the job sources secret-named variables from a file', () => {
    const fields = { env_vars: { API_TOKEN: 'tok-123456', DB_PASSWORD: 'x', MODE: 'fast' } };
    const text = script(fields);
    expect(text).not.toContain('tok-123456');
    expect(text).not.toMatch(/DB_PASSWORD=/);
    expect(text).toContain("export MODE='fast'");
    expect(text).toContain(". '/scratch/runs/r1/.modelrun/slurm-secrets.env' || exit 1");
    expect(secretEnv(config(fields))).toEqual({ API_TOKEN: 'tok-123456', DB_PASSWORD: 'x' });
  });

  it('keeps out a variable whose value holds a secret, as run.json masks it', () => {
    const c = config({
      env_vars: {
        API_TOKEN: 's3cr3t-value-XYZ',
        OTHER: 's3cr3t-value-XYZ',
        URL: 'x?t=s3cr3t-value-XYZ',
      },
    });
    const text = batchScript(c, JOB, jobCommand(c, JOB, undefined));
    expect(text).not.toContain('s3cr3t-value-XYZ');
    expect(text).toContain('# API_TOKEN, OTHER, URL: from a file only you can read');
    expect(secretsFileText(secretEnv(c))).toBe(
      "export API_TOKEN='s3cr3t-value-XYZ'\nexport OTHER='s3cr3t-value-XYZ'\nexport URL='x?t=s3cr3t-value-XYZ'\n",
    );
  });

  it("keeps out a variable whose value holds a secret of modelrun's own environment", () => {
    const c = config({ env_vars: { FROM_HOST: 'host-secret-123', SHORT: 'abc' } });
    const hostEnv = { HOST_API_TOKEN: 'host-secret-123', MY_KEY: 'abc' };
    const text = batchScript(c, JOB, jobCommand(c, JOB, undefined), hostEnv);
    expect(text).not.toContain('host-secret-123');
    // Shorter than the masking rule's minimum: masked by name only, as in run.json.
    expect(text).toContain("export SHORT='abc'");
    expect(secretEnv(c, hostEnv)).toEqual({ FROM_HOST: 'host-secret-123' });
  });

  it('gives the job its secrets exactly, through the file', () => {
    const value = `it's $HOME \\ "x"`;
    const dir = tree.path('staged');
    const c = config({ env_vars: { API_TOKEN: value }, command: 'printf %s "$API_TOKEN"' });
    const job = { ...JOB, stagingDir: dir };
    mkdirSync(join(dir, '.modelrun'), { recursive: true });
    writeFileSync(join(dir, '.modelrun', 'slurm-secrets.env'), secretsFileText(secretEnv(c)));
    const text = batchScript(c, job, jobCommand(c, job, undefined));
    expect(execFileSync('bash', ['-c', text], { encoding: 'utf8' })).toBe(value);
  });

  it('runs the command through apptainer on the node, with the hybrid MPI launcher', () => {
    const text = script({
      container: { type: 'apptainer', image: 'docker://busybox', mpiexec: 'srun', cpu: 4 },
    });
    expect(text).toMatch(
      /^srun -n 4 apptainer exec --cleanenv --no-home --bind \/scratch\/runs\/r1:\/app\/run:rw --pwd \/app\/run --env-file \/scratch\/runs\/r1\/\.modelrun\/apptainer\.env \/cache\/img\.sif \/bin\/sh -c 'node wave\.mjs input\.json'$/m,
    );
  });

  it('runs the command through docker on the node, with the env by name from the job', () => {
    const text = script({
      env_vars: { A: 'b' },
      container: { type: 'docker', image: 'ubuntu:22.04', cpu: 2, memory: '1g' },
    });
    expect(text).toContain("export A='b'\n");
    expect(text).toMatch(
      /^docker run --name "\$modelrun_container" .* --rm --init .* --env A --cpus 2 --memory 1073741824 --memory-swap 1073741824 --network bridge ubuntu:22\.04 \/bin\/sh -c 'node wave\.mjs input\.json' &\nwait \$!$/m,
    );
  });
});
