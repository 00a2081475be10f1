import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { ConfigError } from '../../errors.js';
import type { RunJob } from '../contract.js';
import { slurmConfigSchema } from './config.js';
import { expandFilename, patternFolder } from './filename.js';
import {
  batchScript,
  containerCommand,
  jobCommand,
  outputPattern,
  sbatchArgs,
  secretEnv,
} from './script.js';

const tree = makeTree({ 'data/': '' });
afterAll(() => tree.remove());
const JOB: RunJob = {
  runId: 'r1',
  stagingDir: '/scratch/runs/r1',
  modelCommand: 'node wave.mjs input.json',
};
const config = (fields: Record<string, unknown>) =>
  slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...fields });
/** The command the job runs, as the script holds it (in modelrun_command). */
const command = (fields: Record<string, unknown>) => {
  const c = config(fields);
  return jobCommand(c, JOB, containerCommand(c, JOB, '/cache/img.sif'));
};
const script = (fields: Record<string, unknown>) => {
  const c = config(fields);
  return batchScript(c, JOB, jobCommand(c, JOB, containerCommand(c, JOB, '/cache/img.sif')));
};

describe('the log files of a staging dir whose path holds a %', () => {
  it.each([
    ['/scratch/50%x/r1', '/scratch/50%%x/r1/logs/slurm-%j.out', '/scratch/50%x/r1/logs'],
    // A backslash turns Slurm's expansion off: nothing is doubled, and %j stays as written.
    ['/scratch/a\\b%x/r1', '/scratch/a\\b%x/r1/logs/slurm-%j.out', '/scratch/ab%x/r1/logs'],
  ])('in %s are written where the path says', (stagingDir, pattern, folder) => {
    const job = { ...JOB, stagingDir };
    const c = config({});
    expect(outputPattern(c, job)).toBe(pattern);
    expect(batchScript(c, job, jobCommand(c, job, undefined))).toContain(
      `#SBATCH --output="${pattern.replaceAll('\\', '\\\\')}"`,
    );
    expect(patternFolder(pattern)).toBe(folder);
    expect(expandFilename(pattern, { jobId: '12', jobName: 'j', user: 'me' })).toBe(
      pattern.includes('\\') ? pattern.replaceAll('\\', '') : `${stagingDir}/logs/slurm-12.out`,
    );
  });
});

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
      '#SBATCH --job-name="modelrun-r1"',
      '#SBATCH --output="/scratch/runs/r1/logs/slurm-%j.out"',
      '#SBATCH --error="/scratch/runs/r1/logs/slurm-%j.err"',
      '#SBATCH --chdir="/scratch/runs/r1"',
      '',
      '# The command runs in a subshell; its exit status is kept in .modelrun/job-exit.',
      "modelrun_command='node wave.mjs input.json'",
      "# Slurm's SIGTERM (scancel, the time limit) is the command's to answer. These shells wait for the",
      '# command to end, then end by the same signal: none of its processes loses its parent here, which',
      '# with proctrack/linuxproc would hide it from the SIGKILL that follows.',
      "trap 'modelrun_signalled=1' TERM",
      '( trap \'exit 143\' TERM; eval "$modelrun_command" )',
      'modelrun_status=$?',
      'if [ -n "${modelrun_signalled:-}" ]; then trap - TERM; kill -TERM $$; fi',
      "modelrun_dir='/scratch/runs/r1/.modelrun'",
      'if [ -d "$modelrun_dir" ] && [ ! -L "$modelrun_dir" ] && modelrun_exit=$(mktemp "$modelrun_dir/job-exit.XXXXXX" 2>/dev/null); then',
      `  { printf '%s %s\\n' "\${MODELRUN_SLURM_TASK:-\${SLURM_JOB_ID:-}}" "$modelrun_status" > "$modelrun_exit" && mv -fT "$modelrun_exit" "$modelrun_dir/job-exit"; } 2>/dev/null || rm -f "$modelrun_exit"`,
      'fi',
      'exit "$modelrun_status"',
      '',
    ]);
  });

  it.each([
    [{ queue: 'compute' }, '#SBATCH --partition="compute"'],
    [{ nodes: 2 }, '#SBATCH --nodes="2"'],
    [{ ntasks: 8 }, '#SBATCH --ntasks="8"'],
    [{ cpus_per_task: 4 }, '#SBATCH --cpus-per-task="4"'],
    [{ mem: '16G' }, '#SBATCH --mem="16G"'],
    [{ mem_per_cpu: '2G' }, '#SBATCH --mem-per-cpu="2G"'],
    [{ time_limit: '1-12:00:00' }, '#SBATCH --time="1-12:00:00"'],
    [{ account: 'ocean' }, '#SBATCH --account="ocean"'],
    [{ qos: 'long' }, '#SBATCH --qos="long"'],
    [{ reservation: 'r1' }, '#SBATCH --reservation="r1"'],
    [{ constraint: 'skylake' }, '#SBATCH --constraint="skylake"'],
    [{ gres: 'gpu:2' }, '#SBATCH --gres="gpu:2"'],
    [{ gpus: 'a100:2' }, '#SBATCH --gpus="a100:2"'],
    [{ exclusive: true }, '#SBATCH --exclusive'],
    [{ job_name: 'wave' }, '#SBATCH --job-name="wave"'],
    [{ output_file: '/scratch/o-%j.txt' }, '#SBATCH --output="/scratch/o-%j.txt"'],
    [
      { mail_type: ['END', 'FAIL'], mail_user: 'me@example.org' },
      '#SBATCH --mail-type="END,FAIL"\n#SBATCH --mail-user="me@example.org"',
    ],
    [
      { additional_options: ['--requeue', '--licenses=matlab:1'] },
      '#SBATCH --requeue\n#SBATCH --licenses="matlab:1"',
    ],
    [{ command: 'srun ./model' }, "\nmodelrun_command='srun ./model'\n"],
  ])('%j gives %s', (fields, line) => {
    expect(script(fields)).toContain(line);
  });

  it('exports env_vars so that the shell reads back spaces, quotes, $ and backslashes exactly', () => {
    const value = `it's "quoted" $HOME \\ and	tab`;
    const text = script({ env_vars: { TRICKY: value }, command: 'printf %s "$TRICKY"' });
    expect(execFileSync('bash', ['-c', text], { encoding: 'utf8' })).toBe(value);
  });

  it('quotes every value as sbatch reads it back: spaces, # and quotes kept,  and " escaped', () => {
    const lines = script({
      job_name: `wave "2" #1 \\ x`,
      output_file: '/scratch/my logs/%j.out',
      queue: 'a b',
      additional_options: ['--comment=a b # c', '-d=singleton', '--requeue'],
    }).split('\n');
    expect(lines).toContain('#SBATCH --job-name="wave \\"2\\" #1 \\\\ x"');
    expect(lines).toContain('#SBATCH --output="/scratch/my logs/%j.out"');
    expect(lines).toContain('#SBATCH --partition="a b"');
    expect(lines).toContain('#SBATCH --comment="a b # c"');
    // sbatch reads `-d=singleton` as the value "=singleton".
    expect(lines).toContain('#SBATCH -d "singleton"');
    expect(lines).toContain('#SBATCH --requeue');
    for (const line of lines.filter((l) => l.startsWith('#SBATCH ')))
      expect(line).toMatch(
        /^#SBATCH (?:--[a-z-]+(?:="(?:[^"\\]|\\.)*")?|-[a-z] "(?:[^"\\]|\\.)*")$/,
      );
  });

  it.each([
    ['a line feed', 'runs/a\nb'],
    ['a line separator', 'runs/a\u2028b'],
  ])('refuses a staging dir holding %s, which no #SBATCH line can carry', (_what, dir) => {
    const c = config({});
    const job = { ...JOB, stagingDir: `/scratch/${dir}` };
    expect(() => batchScript(c, job, 'true')).toThrow(ConfigError);
    expect(() => batchScript(c, job, 'true')).toThrow(/^the staging directory cannot hold a/);
  });

  it('holds no secret value: the job gets secret variables from sbatch by name', () => {
    const fields = { env_vars: { API_TOKEN: 'tok-123456', DB_PASSWORD: 'x', MODE: 'fast' } };
    const text = script(fields);
    expect(text).not.toContain('tok-123456');
    expect(text).not.toMatch(/DB_PASSWORD=/);
    expect(text).toContain("export MODE='fast'");
    expect(text).toContain(
      "# API_TOKEN, DB_PASSWORD: from sbatch's environment, passed by name (--export)",
    );
    expect(text).not.toContain('slurm-secrets');
    expect(secretEnv(config(fields))).toEqual({ API_TOKEN: 'tok-123456', DB_PASSWORD: 'x' });
    const args = sbatchArgs(config(fields), JOB);
    expect(args).toEqual([
      '--parsable',
      '--export=ALL,API_TOKEN,DB_PASSWORD',
      '/scratch/runs/r1/slurm-job.sh',
    ]);
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
    expect(text).toContain('# API_TOKEN, OTHER, URL: from sbatch');
    expect(sbatchArgs(c, JOB)[1]).toBe('--export=ALL,API_TOKEN,OTHER,URL');
  });

  it("keeps out a variable whose value holds a secret of modelrun's own environment", () => {
    const c = config({ env_vars: { FROM_HOST: 'host-secret-123', SHORT: 'abc' } });
    const hostEnv = { HOST_API_TOKEN: 'host-secret-123', MY_KEY: 'abc' };
    const text = batchScript(c, JOB, jobCommand(c, JOB, undefined), hostEnv);
    expect(text).not.toContain('host-secret-123');
    // Shorter than the masking rule's minimum: masked by name only, as in run.json.
    expect(text).toContain("export SHORT='abc'");
    expect(secretEnv(c, hostEnv)).toEqual({ FROM_HOST: 'host-secret-123' });
    expect(sbatchArgs(c, JOB, hostEnv)).not.toContain('host-secret-123');
  });

  it('passes no --export when there is no secret, leaving sbatch and the user their own', () => {
    expect(sbatchArgs(config({ env_vars: { MODE: 'fast' } }), JOB)).toEqual([
      '--parsable',
      '/scratch/runs/r1/slurm-job.sh',
    ]);
    expect(
      sbatchArgs(config({ additional_options: ['--export=NONE'] }), JOB, { SBATCH_EXPORT: 'NIL' }),
    ).toEqual(['--parsable', '/scratch/runs/r1/slurm-job.sh']);
  });

  it.each([
    [[], {}, '--export=ALL,API_TOKEN'],
    [['--export=PATH,HOME'], {}, '--export=PATH,HOME,API_TOKEN'],
    [['--export=ALL,MODE=fast'], {}, '--export=ALL,MODE=fast,API_TOKEN'],
    [['--export=PATH,API_TOKEN'], {}, '--export=PATH,API_TOKEN'],
    [['--export=ALL', '--export=PATH'], {}, '--export=PATH,API_TOKEN'],
    [[], { SBATCH_EXPORT: 'PATH' }, '--export=PATH,API_TOKEN'],
    [['--export=ALL'], { SBATCH_EXPORT: 'NONE' }, '--export=ALL,API_TOKEN'],
  ])(
    'merges the secret names into the export the user chose: %j with %j gives %s',
    (options, hostEnv, wanted) => {
      const c = config({ env_vars: { API_TOKEN: 'tok-123456' }, additional_options: options });
      expect(sbatchArgs(c, JOB, hostEnv)).toEqual([
        '--parsable',
        wanted,
        '/scratch/runs/r1/slurm-job.sh',
      ]);
    },
  );

  it.each([
    [
      ['--export=NONE'],
      {},
      /^additional_options\[0\] "--export=NONE" leaves no way to give the job FROM_HOST/,
    ],
    [['--export=nil'], {}, /sbatch takes no names with --export=nil$/],
    [[], { SBATCH_EXPORT: 'NONE' }, /^SBATCH_EXPORT=NONE in the environment leaves no way/],
  ])(
    'refuses an export of no variables (%j, %j) when the job has secrets',
    (options, hostEnv, message) => {
      // A secret by value, which only the plan can see: a secret name fails validation already.
      const c = config({ env_vars: { FROM_HOST: 'host-secret-123' }, additional_options: options });
      let thrown: unknown;
      try {
        sbatchArgs(c, JOB, { ...hostEnv, HOST_API_TOKEN: 'host-secret-123' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toMatch(message);
      expect((thrown as ConfigError).hint).toMatch(/^list the variables the job needs instead/);
    },
  );

  it('refuses an export that sets a secret variable env_vars gives too, whose value would be on the command line', () => {
    const c = config({
      env_vars: { API_TOKEN: 'tok-123456' },
      additional_options: ['--export=PATH,API_TOKEN=literal'],
    });
    // Before, API_TOKEN was added again beside it: --export=PATH,API_TOKEN=literal,API_TOKEN.
    expect(() => sbatchArgs(c, JOB, {})).toThrow(
      'additional_options[0] "--export=PATH,API_TOKEN=literal" sets API_TOKEN, which env_vars gives the job too',
    );
  });

  it('runs the command through apptainer on the node, with the hybrid MPI launcher', () => {
    const text = command({
      container: { type: 'apptainer', image: 'docker://busybox', mpiexec: 'srun', cpu: 4 },
    });
    expect(text).toMatch(
      /^srun -n 4 apptainer exec --cleanenv --no-home --bind \/scratch\/runs\/r1:\/app\/run:rw --pwd \/app\/run --env-file \/scratch\/runs\/r1\/\.modelrun\/apptainer\.env \/cache\/img\.sif \/bin\/sh -c 'node wave\.mjs input\.json'$/m,
    );
  });

  it('runs the command through docker on the node, with the env by name from the job', () => {
    const fields = {
      env_vars: { A: 'b' },
      container: { type: 'docker', image: 'ubuntu:22.04', cpu: 2, memory: '1g' },
    };
    expect(script(fields)).toContain("export A='b'\n");
    const text = command(fields);
    expect(text).toMatch(
      /^docker run --name "\$modelrun_container" .* --rm --init .* --env A --cpus 2 --memory 1073741824 --memory-swap 1073741824 --network bridge ubuntu:22\.04 \/bin\/sh -c 'node wave\.mjs input\.json' &\nwait \$!$/m,
    );
  });
});
