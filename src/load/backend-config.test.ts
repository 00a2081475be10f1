import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_CASES, CASE_TREE } from '../../test/cases/backend-cases.js';
import { describeRules } from '../../test/helpers/rules.js';
import { makeTree } from '../../test/helpers/tree.js';
import { validateBackendText } from './backend-config.js';

const tree = makeTree(CASE_TREE);
afterAll(() => tree.remove());

const check = (yaml: string, env: NodeJS.ProcessEnv = {}, backendType?: string) =>
  validateBackendText(tree.path('backend.yml'), yaml, {
    env,
    ...(backendType === undefined ? {} : { backendType }),
  });

describeRules('backend config rules', BACKEND_CASES, (yaml) => check(yaml));

describe('parsed values', () => {
  it('fills defaults', () => {
    expect(check('type: local\n').value).toEqual({
      type: 'local',
      timeout: 3600,
      shell: true,
      capture_output: true,
      stream_output: true,
    });
    expect(check('type: docker\nimage: x\n').value).toMatchObject({
      network: 'bridge',
      pull_policy: 'missing',
      remove_container: true,
    });
    expect(check('type: apptainer\nimage: docker://x\n').value).toMatchObject({
      cleanenv: true,
      no_home: true,
      containall: false,
      binary: 'apptainer',
    });
  });

  it("gives slurm no timeout of its own: the job's time_limit is its limit", () => {
    const value = check('type: slurm\ntime_limit: "2-00:00:00"\n').value;
    expect(value).toMatchObject({ type: 'slurm', time_limit: '2-00:00:00' });
    expect(value).not.toHaveProperty('timeout');
    expect(value).not.toHaveProperty('queue_timeout');
  });

  it('reads a slurm queue_timeout as seconds', () => {
    expect(check('type: slurm\nqueue_timeout: 10m\n').value?.queue_timeout).toBe(600);
  });

  it.each([
    ['30d', 30 * 86_400],
    ['365d', 365 * 86_400],
    ['90m', 5400],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1d', 86_400],
    [600, 600],
  ])('reads timeout %s as %i seconds', (timeout, seconds) => {
    expect(check(`type: local\ntimeout: ${timeout}\n`).value?.timeout).toBe(seconds);
  });

  it('turns env numbers and booleans into strings', () => {
    const value = check(
      'type: local\nenv_vars:\n  OMP_NUM_THREADS: 4\n  DEBUG: false\n  RATE: 0.5\n',
    ).value;
    expect(value?.env_vars).toEqual({ OMP_NUM_THREADS: '4', DEBUG: 'false', RATE: '0.5' });
  });

  it("resolves relative paths against the config file's folder, not the working directory", () => {
    const value = check(
      'type: docker\nimage: x\nworking_dir: data\nvolumes:\n  - ./data:/data:ro\n',
    ).value;
    expect(value?.working_dir).toBe(tree.path('data'));
    expect(value?.volumes).toEqual([{ source: tree.path('data'), target: '/data', mode: 'ro' }]);
  });

  it('gives an apptainer bind without a destination the same path inside', () => {
    const value = check('type: apptainer\nimage: image.sif\nbinds: [data]\n').value;
    expect(value?.image).toBe(tree.path('image.sif'));
    expect(value?.binds).toEqual([{ source: tree.path('data'), target: tree.path('data') }]);
  });
});

describe('one pass', () => {
  it('reports every problem, not just the first', () => {
    const result = check(
      'type: docker\ntimout: 1\ncpu: 0\nmemory: 1.5g\nvolumes: [data, nowhere:/x]\n',
    );
    expect(result.errors.map((e) => e.path)).toEqual([
      '',
      'timout',
      'cpu',
      'memory',
      'volumes[0]',
      'volumes[1]',
    ]);
  });
});

describe('--backend-type', () => {
  it('supplies the type of a file without one', () => {
    expect(check('image: ubuntu\n', {}, 'docker').status).toBe('valid');
  });

  it('rejects a file whose type disagrees', () => {
    const result = check('type: local\n', {}, 'docker');
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        path: 'type',
        line: 1,
        column: 7,
        message: 'type is "local" but --backend-type is "docker"',
      }),
    );
  });
});

describe('warnings', () => {
  it('warns about a secret written into the file, not one taken from the environment', () => {
    const result = check(
      'type: local\nenv_vars:\n  API_TOKEN: abc123\n  DB_PASSWORD: ${DB_PASSWORD}\n',
      {
        DB_PASSWORD: 'x',
      },
    );
    expect(result.status).toBe('valid');
    expect(result.warnings.map((w) => w.path)).toEqual(['env_vars.API_TOKEN']);
    expect(result.warnings[0]?.message).toMatch(
      /write \$\{API_TOKEN\} in the file to take it from the environment/,
    );
  });

  it('warns when a container runs as root', () => {
    expect(check('type: docker\nimage: x\nuser: root\n').warnings[0]?.message).toMatch(
      /owned by root/,
    );
  });
});

describe('absurd numbers', () => {
  it('reports 2^64 CPUs once, by the field’s own bound', () => {
    const result = check('type: docker\nimage: x\ncpu: 18446744073709551616\n');
    expect(result.errors.map((e) => e.message)).toEqual([
      'must be at most 128, got 18446744073709552000',
    ]);
  });
});

describe('warnings of a file with errors', () => {
  it('still reports them, beside the errors', () => {
    const result = check(
      'type: docker\nimage: x\ncpu: 0\nenv_vars:\n  API_TOKEN: abc\nuser: root\n',
    );
    expect(result.errors.map((e) => e.path)).toEqual(['cpu']);
    expect(result.warnings.map((w) => `${w.line} ${w.path}`)).toEqual([
      '5 env_vars.API_TOKEN',
      '6 user',
    ]);
  });

  it('checks values of any shape as written without failing', () => {
    const result = check('type: local\nenv_vars: 5\ncapture_output: "no"\nstream_output: false\n');
    expect(result.status).toBe('invalid');
    expect(result.warnings).toEqual([]);
  });
});
