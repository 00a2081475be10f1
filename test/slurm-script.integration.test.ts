import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runModelrun } from './helpers/cli.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { makeTree, type Tree } from './helpers/tree.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** The cluster is strict (no default memory, no oversubscription): every job asks for little. */
const SMALL = 'cpus_per_task: 1\nmem: 100M\ntime_limit: "00:05:00"\n';
/** A job may queue behind the jobs of other test runs sharing the cluster. */
const JOB_MS = 600_000;

/** Jobs of ours still queued or running, by name. */
function queued(name: string): string[] {
  return execFileSync('squeue', ['-h', '-n', name, '-o', '%i'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** One field of `scontrol show job`, read to the end of its line, so that spaces in it stay. */
function jobField(id: string, field: string): string | undefined {
  const text = execFileSync('scontrol', ['show', 'job', id], { encoding: 'utf8' });
  // scontrol ends some lines with a space.
  return new RegExp(`(?:^|\\s)${field}=(.*?)(?: \\w+=|$)`, 'm').exec(text)?.[1]?.trimEnd();
}

/** Every file under `dir`, with its content. */
function filesUnder(dir: string): [string, string][] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return [path, readFileSync(path, 'utf8')];
    });
}

describe.skipIf(missing !== undefined)('the slurm batch script, against a real cluster', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  /** A model and a slurm config in a folder whose name has a space, and the run's id. */
  function setup(backend: string, command = 'echo hello') {
    const runId = `script-${randomBytes(4).toString('hex')}`;
    tree = makeTree({
      'my runs/model.yml': `run_id: ${runId}\ncommand: ${JSON.stringify(command)}\n`,
      'my runs/slurm.yml': `type: slurm\n${SMALL}${backend}`,
    });
    const cwd = tree.path('my runs');
    const staging = join(cwd, 'simulations', runId);
    const run = (extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
      runModelrun(['run', 'model.yml', '--backend-config', 'slurm.yml', ...extra], { cwd, env });
    return { runId, cwd, staging, run };
  }

  it.each([
    ['written in the file', 'job_name: "wave\\necho injected"\n', {}],
    [
      'read with ${VAR}',
      'job_name: ${JOB}\n',
      { JOB: 'wave\n#SBATCH --partition=x\necho injected' },
    ],
  ])('refuses a job_name with a line feed %s, submitting nothing', async (_how, field, env) => {
    const { runId, run } = setup(field);
    const result = await run([], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/job_name/);
    expect(result.stderr).toContain('cannot hold a line feed (\\x0a)');
    expect(queued(`modelrun-${runId}`)).toEqual([]);
  });

  it(
    'runs in a staging dir with a space, with a job name sbatch reads back whole',
    async () => {
      const name = `wave "${randomBytes(4).toString('hex')}" #1 \\ x`;
      const { staging, run } = setup(
        `job_name: ${JSON.stringify(name)}\noutput_file: "job logs/%j out.txt"\nadditional_options: ["--comment=a b # c"]\n`,
        'echo "in $(pwd)"; echo note >&2',
      );
      // An earlier script, readable by all: the run replaces it with its own, mode 0700.
      execFileSync('mkdir', ['-p', staging]);
      writeFileSync(join(staging, 'slurm-job.sh'), '#!/bin/bash\necho planted\n');
      chmodSync(join(staging, 'slurm-job.sh'), 0o644);

      const result = await run(['--json']);
      expect(result.stderr).not.toMatch(/please report/);
      expect(result.code).toBe(0);
      const record = JSON.parse(result.stdout);
      const id = record.backend.details.job_id as string;
      expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe(`in ${staging}\n`);
      expect(readFileSync(join(staging, 'logs', 'stderr.log'), 'utf8')).toBe('note\n');
      expect(readFileSync(join(tree.path('my runs'), 'job logs', `${id} out.txt`), 'utf8')).toBe(
        `in ${staging}\n`,
      );
      expect(jobField(id, 'JobName')).toBe(name);
      expect(jobField(id, 'Comment')).toBe('a b # c');
      expect(jobField(id, 'WorkDir')).toBe(staging);
      expect(statSync(join(staging, 'slurm-job.sh')).mode & 0o777).toBe(0o700);
      expect(readFileSync(join(staging, 'slurm-job.sh'), 'utf8')).not.toContain('planted');
    },
    JOB_MS,
  );

  it(
    'gives the job its secret through sbatch, never through the script, a file, argv or the logs',
    async () => {
      const secret = `tok-${randomBytes(12).toString('hex')}`;
      const hash = createHash('sha256').update(secret).digest('hex');
      const { staging, run } = setup(
        'env_vars:\n  API_TOKEN: ${SRC_TOKEN}\n  MODE: fast\n',
        // $${ is a literal ${ in a model file.
        'printf "%s" "$API_TOKEN" | sha256sum | cut -c1-64; echo "$${#API_TOKEN} $MODE"',
      );
      // sbatch as the run calls it, its arguments recorded before the real one runs.
      const shim = tree.path('bin');
      execFileSync('mkdir', ['-p', shim]);
      writeFileSync(
        join(shim, 'sbatch'),
        `#!/bin/sh\nprintf '%s\\n' "$@" '--' >> '${tree.path('sbatch-argv.txt')}'\nexec /usr/bin/sbatch "$@"\n`,
        { mode: 0o755 },
      );
      const env = { SRC_TOKEN: secret, PATH: `${shim}:${process.env.PATH}` };

      const dry = await run(['--dry-run', '--json'], env);
      expect(dry.code).toBe(0);
      const plan = JSON.parse(dry.stdout);
      expect(plan.sbatch_argv).toEqual([
        'sbatch',
        '--parsable',
        '--export=ALL,API_TOKEN',
        join(staging, 'slurm-job.sh'),
      ]);

      const result = await run([], env);
      expect(result.code).toBe(0);
      expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe(
        `${hash}\n${secret.length} fast\n`,
      );
      const argv = readFileSync(tree.path('sbatch-argv.txt'), 'utf8');
      // The run asks `sbatch --version` first, then submits.
      expect(argv.split('--\n').filter((call) => call !== '' && call !== '--version\n')).toEqual([
        `--parsable\n--export=ALL,API_TOKEN\n${join(staging, 'slurm-job.sh')}\n`,
      ]);
      for (const [path, text] of [
        ...filesUnder(staging),
        ['argv', argv],
        ['dry run', dry.stdout + dry.stderr],
        ['output', result.stdout + result.stderr],
      ])
        expect(text, path).not.toContain(secret);
      expect(readdirSync(join(staging, '.modelrun'))).not.toContain('slurm-secrets.env');
    },
    JOB_MS,
  );

  it(
    "adds the secret's name to the user's own --export list, which the job keeps to",
    async () => {
      const secret = `tok-${randomBytes(12).toString('hex')}`;
      const { staging, run } = setup(
        'env_vars:\n  API_TOKEN: ${SRC_TOKEN}\nadditional_options: ["--export=PATH,HOME"]\n',
        'echo "$${#API_TOKEN} [$${UNLISTED_VAR:-unset}]"',
      );
      const result = await run([], { SRC_TOKEN: secret, UNLISTED_VAR: 'from modelrun' });
      expect(result.code).toBe(0);
      expect(readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8')).toBe(
        `${secret.length} [unset]\n`,
      );
    },
    JOB_MS,
  );

  it('refuses --export=NONE beside a secret, saying why and what to write, before submitting', async () => {
    const { runId, run } = setup(
      'env_vars:\n  API_TOKEN: ${SRC_TOKEN}\nadditional_options: ["--export=NONE"]\n',
    );
    const result = await run([], { SRC_TOKEN: `tok-${randomBytes(8).toString('hex')}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'additional_options[0]: --export=NONE leaves no way to give the job API_TOKEN',
    );
    expect(result.stderr).toContain('--export=PATH,HOME');
    expect(queued(`modelrun-${runId}`)).toEqual([]);
  });

  it('hints at what sbatch refused, not always at the queue', async () => {
    const { runId, run } = setup('additional_options: ["--licenses=no-such-licence:1"]\n');
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sbatch failed: .*[Ii]nvalid license/);
    expect(result.stderr).toContain('check the licenses in `additional_options`');
    expect(result.stderr).not.toContain('check queue');
    expect(queued(`modelrun-${runId}`)).toEqual([]);
  });
});
