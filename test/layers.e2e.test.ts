import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runModelrun } from './helpers/cli.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/** `extends:`, `--set` and the site config, through the built CLI. */

const tree = makeTree({
  'site/slurm-free.yml':
    'backends:\n  local:\n    timeout: 2h\n    env_vars:\n      SITE_NAME: "here"\n',
  'site/bad.yml': 'backends:\n  local:\n    type: local\n',
  'base.yml': 'type: local\nenv_vars:\n  FROM: base\n',
  'child.yml': 'extends: base.yml\nenv_vars:\n  CHILD: "1"\n',
});
afterAll(() => tree.remove());

const WAVE = join(REPO_ROOT, 'examples', 'wave', 'model.yml');

/** The wave example's speed (from its log) and the first time its probe saw the wave pass. */
function waveOutcome(runDir: string): { speed: number; arrival: number } {
  const log = readFileSync(join(runDir, 'logs', 'stdout.log'), 'utf8');
  const speed = Number(/c = ([\d.]+) m\/s/.exec(log)?.[1]);
  const rows = readFileSync(join(runDir, 'output', 'timeseries.csv'), 'utf8')
    .trim()
    .split('\n');
  const header = (rows[0] ?? '').split(',');
  const at = (name: string) => header.indexOf(name);
  const passed = rows
    .slice(1)
    .map((row) => row.split(','))
    .find((cells) => Math.abs(Number(cells[at('probe_u_m')])) > 0.05);
  return { speed, arrival: Number(passed?.[at('elapsed_s')]) };
}

describe('--set on the example model', () => {
  it('a deeper channel makes faster waves, which reach the gauge sooner', async () => {
    const out = tree.path('wave');
    const common = [
      '--no-postprocess',
      '--set',
      `output_dir=${out}`,
      '--set',
      'period.interval=1m',
    ];
    const shallowId = uniqueId('wave-shallow');
    const deepId = uniqueId('wave-deep');
    const shallow = await runModelrun(['run', WAVE, ...common, '--set', `run_id=${shallowId}`]);
    const deep = await runModelrun([
      'run',
      WAVE,
      ...common,
      '--set',
      'config.depth_m=10',
      '--set',
      `run_id=${deepId}`,
    ]);
    expect(shallow.stderr).toContain('succeeded');
    expect(deep.stderr).toContain('succeeded');
    const a = waveOutcome(join(out, shallowId));
    const b = waveOutcome(join(out, deepId));
    // c = sqrt(g h): twice the depth, sqrt(2) times the speed.
    expect(b.speed / a.speed).toBeCloseTo(Math.SQRT2, 3);
    // 10 km from the hump to the gauge: sooner by about that factor, to within a record (60 s).
    expect(b.arrival).toBeLessThan(a.arrival);
    expect(Math.abs(b.arrival - a.arrival / Math.SQRT2)).toBeLessThanOrEqual(60);
    const record = JSON.parse(readFileSync(join(out, deepId, '.modelrun', 'run.json'), 'utf8')) as {
      overrides: string[];
    };
    expect(record.overrides).toEqual([
      `--set output_dir=${out}`,
      '--set period.interval=1m',
      '--set config.depth_m=10',
      `--set run_id=${deepId}`,
    ]);
  });
});

describe('the run record and the dry run', () => {
  it('list the overrides with secret values masked, and the dry run shows the merged config', async () => {
    const runId = uniqueId('layers');
    tree.write(
      'm/model.yml',
      `run_id: ${runId}\noutput_dir: runs\ncommand: "true"\nconfig:\n  a: 1\n`,
    );
    const args = [
      'run',
      'model.yml',
      '--backend-config',
      '../child.yml',
      '--set',
      'config.a=2',
      '--set',
      'backend.env_vars.API_TOKEN=hunter2',
      '--no-site-config',
    ];
    const dry = await runModelrun([...args, '--dry-run', '--json'], { cwd: tree.path('m') });
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as Record<string, unknown>;
    expect(plan.model_config).toEqual({ a: 2 });
    expect(plan.overrides).toEqual(['--set config.a=2', '--set backend.env_vars.API_TOKEN=***']);
    expect(dry.stdout + dry.stderr).not.toContain('hunter2');

    const run = await runModelrun(args, { cwd: tree.path('m') });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('hunter2');
    const text = readFileSync(tree.path('m', 'runs', runId, '.modelrun', 'run.json'), 'utf8');
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toMatchObject({
      overrides: ['--set config.a=2', '--set backend.env_vars.API_TOKEN=***'],
      backend: { config: { env_vars: { FROM: 'base', CHILD: '1', API_TOKEN: '***' } } },
    });
  });
});

describe('the site config', () => {
  const site = (file: string) => ({ MODELRUN_SITE_CONFIG: tree.path('site', file) });

  it('sets defaults under configs of its type; --no-site-config leaves it out; --explain says where', async () => {
    const on = await runModelrun(['backends', 'validate', 'child.yml', '--explain'], {
      cwd: tree.root,
      env: site('slurm-free.yml'),
    });
    expect(on.code).toBe(0);
    const line = (path: string) => on.stdout.split('\n').find((l) => l.trim().startsWith(path));
    expect(line('timeout')).toMatch(/"2h"\s+.*site\/slurm-free\.yml:3$/);
    expect(line('env_vars.SITE_NAME')).toMatch(/"here"\s+.*slurm-free\.yml:5$/);
    expect(line('env_vars.FROM')).toMatch(/"base"\s+base\.yml:3$/);
    expect(line('env_vars.CHILD')).toMatch(/"1"\s+child\.yml:3$/);
    expect(line('type')).toMatch(/"local"\s+base\.yml:1$/);

    const off = await runModelrun(
      ['backends', 'validate', 'child.yml', '--explain', '--no-site-config'],
      { cwd: tree.root, env: site('slurm-free.yml') },
    );
    expect(off.stdout).not.toContain('SITE_NAME');
    expect(off.stdout).not.toContain('slurm-free.yml');
  });

  it('that is not valid stops every command that loads a config, saying where, with exit 2', async () => {
    const result = await runModelrun(['backends', 'validate', 'child.yml'], {
      cwd: tree.root,
      env: site('bad.yml'),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/site config .*bad\.yml is not valid/);
    expect(result.stderr).toMatch(
      /bad\.yml:3:5 {2}backends\.local\.type: the section says its type already/,
    );
    expect(result.stderr).toContain('--no-site-config');
  });
});

describe('--set mistakes', () => {
  const cases: [string[], RegExp][] = [
    [['--set', 'config'], /--set config: no "=" after the path/],
    [['--set', 'backend.timeout=soon'], /--set backend\.timeout=soon {2}timeout: /],
    [['--set', 'config.x=[1'], /--set config\.x=\[1: the value is not valid YAML/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} is the user's mistake, named, exit 2`, async () => {
      tree.write('e/model.yml', 'run_id: e\noutput_dir: runs\ncommand: "true"\n');
      const result = await runModelrun(['run', 'model.yml', '--dry-run', ...args], {
        cwd: tree.path('e'),
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    });
  }
});

describe('what the hostile review found', () => {
  it('--format json names the file of a problem in a base', async () => {
    tree.write('j/base.yml', 'type: local\ntimeout: soon\n');
    tree.write('j/child.yml', 'extends: base.yml\n');
    const result = await runModelrun(['backends', 'validate', 'child.yml', '--format', 'json'], {
      cwd: tree.path('j'),
    });
    expect(JSON.parse(result.stdout)[0].errors).toEqual([
      expect.objectContaining({ file: 'base.yml', line: 2, path: 'timeout' }),
    ]);
  });

  it('refuses --set values too large to hand to a detached run, as a usage error, leaving no log', async () => {
    tree.write('big/model.yml', 'run_id: big\noutput_dir: runs\ncommand: "true"\n');
    const value = 'a'.repeat(60_000);
    const state = tree.path('big-state');
    const result = await runModelrun(
      [
        'run',
        'model.yml',
        '--detach',
        ...['a', 'b'].flatMap((k) => ['--set', `config.${k}=${value}`]),
      ],
      { cwd: tree.path('big'), env: { XDG_STATE_HOME: state } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the --set values are 118 KiB together/);
    expect(existsSync(join(state, 'modelrun', 'detached'))).toBe(false);
  });

  it('tells the kind of a file from a base named with ${NAME}', async () => {
    tree.write('k/model.yml', 'run_id: k\ncommand: "true"\nconfig: {a: 1}\n');
    tree.write('k/child.yml', 'extends: ${BASE_MODEL}\nconfig: {a: 2}\n');
    const result = await runModelrun(['validate', 'child.yml'], {
      cwd: tree.path('k'),
      env: { BASE_MODEL: 'model.yml' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ child.yml  model');
  });

  it('says what to check when --set breaks the default backend', async () => {
    tree.write('d/model.yml', 'run_id: d\noutput_dir: runs\ncommand: "true"\n');
    const result = await runModelrun(['run', 'model.yml', '--dry-run', '--set', 'backend.cpu=2'], {
      cwd: tree.path('d'),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'the run has no backend config: check the --set backend. values',
    );
  });
});
