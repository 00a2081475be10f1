import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runModelrun, startModelrun } from './helpers/cli.js';
import { isRunning, waitFor, waitUntilGone } from './helpers/processes.js';
import { readRunRecord, waitForGuardian } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';

/** Each test's own folder, with these files and a copy of the example wave model. */
const tree = treeForEachTest(
  {
    'fail.yml': 'run_id: fail\ncommand: "echo one >&2; echo two >&2; exit 3"\n',
    'secret.yml': 'run_id: secret\ncommand: "echo token=${API_TOKEN}"\n',
    'secret-backend.yml': 'type: local\nenv_vars:\n  API_TOKEN: ${API_TOKEN}\n  MODE: fast\n',
    'checksum.yml': 'type: checksum\n',
    'bad-post.yml': 'type: command\ncommand: "exit 4"\n',
    'slow.yml': 'run_id: slow\ncommand: "echo started; sleep 300 & echo $! > sleep.pid; wait"\n',
    'stubborn.yml': `run_id: stubborn\ncommand: "trap '' TERM INT; echo started; sleep 300 & echo $! > sleep.pid; wait; sleep 300"\n`,
    'invalid.yml': 'run_id: "has space"\ncomand: x\n',
    'quick.yml': 'run_id: quick\ncommand: "true"\n',
    'slow-post.yml':
      'type: command\ncommand: "echo started; sleep 300 & echo $! > post-sleep.pid; wait"\n',
  },
  (fresh) => copyWave(fresh.path('wave')),
);

/** A copy of the example wave model, without runs staged in the repo by hand. */
function copyWave(to: string): void {
  cpSync(join(REPO_ROOT, 'examples', 'wave'), to, {
    recursive: true,
    filter: (src) => !src.includes('simulations'),
  });
}

describe('modelrun run', () => {
  it('runs the example wave model, then checksums and archives it', async () => {
    const result = await runModelrun(['run', 'wave/model.yml'], { cwd: tree.root });
    expect(result.stderr).toContain('✓ wave-demo succeeded (exit code 0');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('wave: done');
    const run = tree.path('wave', 'simulations', 'wave-demo');
    expect(readdirSync(join(run, 'output')).sort()).toEqual(['summary.json', 'timeseries.csv']);
    expect(readFileSync(join(run, 'logs', 'stdout.log'), 'utf8')).toContain('wave: done');
    expect(
      execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: run, encoding: 'utf8' }),
    ).toContain('output/summary.json: OK');
    const listing = execFileSync(
      'tar',
      ['tzf', tree.path('wave', 'simulations', 'wave-demo.tar.gz')],
      { encoding: 'utf8' },
    );
    expect(listing.split('\n')).toContain('output/timeseries.csv');
    expect(readRunRecord(run)).toMatchObject({
      status: 'succeeded',
      exit_code: 0,
      postprocess: [
        { type: 'checksum', status: 'succeeded' },
        { type: 'archive', status: 'succeeded' },
      ],
    });
  });

  // On the old code the summary wrote the model's escape sequences to the terminal a second time.
  it('shows the end of a failed model’s stderr without its escape sequences, colours dropped', async () => {
    tree.write(
      'escapes.yml',
      `run_id: escapes\ncommand: "printf '\\\\033[31mred\\\\033[0m\\\\n\\\\033]0;title\\\\007\\\\033[2Jcleared\\\\n' >&2; exit 3"\n`,
    );
    const result = await runModelrun(['run', 'escapes.yml'], { cwd: tree.root });
    expect(result.code).toBe(1);
    const summary = result.stderr.slice(result.stderr.indexOf('last 2 lines of stderr'));
    expect(summary).toMatch(/│ red\n.*│ \\x1b\]0;title\\x07\\x1b\[2Jcleared\n/);
    expect(summary).not.toContain('\u001b]0;');
  });

  // On the old code the secret, split by a colour code, was masked before the code was dropped.
  it('masks a secret that a colour code split, in the end of stderr it shows', async () => {
    tree.write('split-backend.yml', 'type: local\nenv_vars:\n  API_TOKEN: s3cr3tVALUE99\n');
    tree.write(
      'split.yml',
      `run_id: split\ncommand: "printf 'tok s3cr3t\\\\033[mVALUE99\\\\n' >&2; exit 4"\n`,
    );
    const result = await runModelrun(
      ['run', 'split.yml', '--backend-config', 'split-backend.yml'],
      {
        cwd: tree.root,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/│ tok \*\*\*/);
    expect(result.stderr).not.toContain('s3cr3tVALUE99');
  });

  it('exits 1 when the model fails, and shows the end of its stderr', async () => {
    const result = await runModelrun(['run', 'fail.yml'], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✗ fail failed (exit code 3, ');
    expect(result.stderr).toMatch(/last 2 lines of stderr:\n.*│ one\n.*│ two/);
    expect(readRunRecord(tree.path('simulations', 'fail'))).toMatchObject({
      status: 'failed',
      exit_code: 3,
    });
  });

  it('prints only the run record on stdout with --json', async () => {
    const result = await runModelrun(['run', 'fail.yml', '--json'], { cwd: tree.root });
    expect(JSON.parse(result.stdout)).toMatchObject({
      run_id: 'fail',
      status: 'failed',
      exit_code: 3,
    });
    expect(result.stderr).toContain('one\n');
  });

  it('prints what would run with --dry-run, with secrets masked, and runs nothing', async () => {
    const env = { API_TOKEN: 'tok-abcdef-123' };
    const result = await runModelrun(
      ['run', 'secret.yml', '--backend-config', 'secret-backend.yml', '--dry-run'],
      { cwd: tree.root, env },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('/bin/sh -c "echo token=***"');
    expect(result.stdout).toMatch(/API_TOKEN +\*\*\*/);
    expect(result.stdout).toMatch(/MODE +fast/);
    expect(result.stdout + result.stderr).not.toContain('tok-abcdef-123');
    expect(existsSync(tree.path('simulations', 'secret'))).toBe(false);
  });

  it('prints the container spec for docker and the full argv for apptainer with --dry-run', async () => {
    tree.write(
      'docker.yml',
      'type: docker\nimage: busybox:stable\ncpu: 2\nmemory: 512m\nenv_vars:\n  API_TOKEN: ${API_TOKEN}\n',
    );
    tree.write(
      'apptainer.yml',
      'type: apptainer\nimage: docker://busybox\nmpiexec: srun\ncpu: 4\nenv_vars:\n  API_TOKEN: ${API_TOKEN}\n',
    );
    const env = { API_TOKEN: 'tok-abcdef-123' };
    const docker = await runModelrun(
      ['run', 'secret.yml', '--backend-config', 'docker.yml', '--dry-run', '--json'],
      { cwd: tree.root, env },
    );
    expect(docker.code).toBe(0);
    const spec = JSON.parse(docker.stdout).container;
    expect(spec).toMatchObject({
      Image: 'busybox:stable',
      Cmd: ['/bin/sh', '-c', 'echo token=***'],
      WorkingDir: '/app/run',
      Env: ['API_TOKEN=***'],
      Labels: { 'modelrun.run_id': 'secret' },
      HostConfig: {
        NanoCpus: 2e9,
        Memory: 512 * 1024 ** 2,
        MemorySwap: 512 * 1024 ** 2,
        Init: true,
      },
    });
    const apptainer = await runModelrun(
      ['run', 'secret.yml', '--backend-config', 'apptainer.yml', '--dry-run'],
      { cwd: tree.root, env },
    );
    expect(apptainer.code).toBe(0);
    expect(apptainer.stdout).toContain(
      '["srun","-n","4","apptainer","exec","--cleanenv","--no-home","--bind",',
    );
    expect(apptainer.stdout).toMatch(/API_TOKEN +\*\*\*/);
    expect(docker.stdout + apptainer.stdout + apptainer.stderr).not.toContain('tok-abcdef-123');
  });

  it('never records a secret in run.json, while the model still gets it', async () => {
    const env = { API_TOKEN: 'tok-abcdef-123' };
    const result = await runModelrun(
      ['run', 'secret.yml', '--backend-config', 'secret-backend.yml'],
      { cwd: tree.root, env },
    );
    expect(result.code).toBe(0);
    const dir = tree.path('simulations', 'secret');
    expect(readFileSync(join(dir, 'logs', 'stdout.log'), 'utf8')).toBe('token=tok-abcdef-123\n');
    expect(readFileSync(join(dir, '.modelrun', 'run.json'), 'utf8')).not.toContain(
      'tok-abcdef-123',
    );
    expect(result.stderr).not.toContain('tok-abcdef-123');
  });

  it('masks a secret in errors too', async () => {
    tree.write('no-shell.yml', 'type: local\nshell: false\nenv_vars:\n  API_TOKEN: ${API_TOKEN}\n');
    tree.write('leaky.yml', 'run_id: leaky\ncommand: "./${API_TOKEN}.sh"\n');
    const env = { API_TOKEN: 'tok-abcdef-123' };
    const result = await runModelrun(['run', 'leaky.yml', '--backend-config', 'no-shell.yml'], {
      cwd: tree.root,
      env,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('could not start ./***.sh');
    expect(result.stderr).not.toContain('tok-abcdef-123');
    expect(
      readFileSync(tree.path('simulations', 'leaky', '.modelrun', 'run.json'), 'utf8'),
    ).not.toContain('tok-abcdef-123');
  });

  it('refuses an invalid model file with positioned errors and exit code 2', async () => {
    const result = await runModelrun(['run', 'invalid.yml'], { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: model file invalid.yml is not valid (2 errors)');
    expect(result.stderr).toContain('invalid.yml:1:9  run_id: must use only letters');
    expect(result.stderr).toContain(
      'invalid.yml:2:1  comand: unknown key "comand"; did you mean "command"?',
    );
  });

  it('explains --skip-generate without a staged run', async () => {
    const skipped = await runModelrun(['run', 'wave/model.yml', '--skip-generate'], {
      cwd: tree.root,
    });
    expect(skipped.code).toBe(2);
    expect(skipped.stderr).toMatch(/--skip-generate: the staging directory .*wave-demo is missing/);
  });
});

describe('interrupting a run', () => {
  const startRun = (model: string) => startModelrun(['run', model], { cwd: tree.root });

  it('on Ctrl-C, stops the model, records cancelled, keeps the logs and exits 130', async () => {
    const { child, exited, output } = await startRun('slow.yml');
    const dir = tree.path('simulations', 'slow');
    const sleepPid = Number(readFileSync(join(dir, 'sleep.pid'), 'utf8'));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(isRunning(sleepPid)).toBe(false);
    expect(readRunRecord(dir)).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled by SIGINT',
    });
    expect(readFileSync(join(dir, 'logs', 'stdout.log'), 'utf8')).toBe('started\n');
    expect(output().stderr).toContain('✗ slow cancelled: cancelled by SIGINT');
  });

  it('on SIGTERM, does the same and exits 143', async () => {
    const { child, exited } = await startRun('slow.yml');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(readRunRecord(tree.path('simulations', 'slow'))?.status).toBe('cancelled');
  });

  it('on SIGHUP (a dropped SSH session), stops the model too and exits 129', async () => {
    const { child, exited } = await startRun('slow.yml');
    const dir = tree.path('simulations', 'slow');
    const sleepPid = Number(readFileSync(join(dir, 'sleep.pid'), 'utf8'));
    child.kill('SIGHUP');
    expect(await exited).toBe(129);
    expect(isRunning(sleepPid)).toBe(false);
    expect(readRunRecord(dir)).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled by SIGHUP',
    });
  });

  it('killed with SIGKILL, still leaves no model behind: its guardian stops it and frees the lock', async () => {
    const { child, exited } = await startRun('slow.yml');
    const sleepPid = Number(readFileSync(tree.path('simulations', 'slow', 'sleep.pid'), 'utf8'));
    child.kill('SIGKILL');
    expect(await exited).toBe(null);
    expect(await waitUntilGone(sleepPid)).toBe(true);
    expect(await waitForGuardian(tree.path('simulations', 'slow'))).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^modelrun ended before the run did/),
    });
    // The guardian released the staging lock: the next run need not wait for it to go stale.
    expect(existsSync(tree.path('simulations', 'slow', '.modelrun', 'run.lock'))).toBe(false);
    const next = await runModelrun(['generate', 'slow.yml'], { cwd: tree.root });
    expect(next.stderr).not.toContain('another modelrun');
    expect(next.code).toBe(0);
  });

  it('killed with SIGQUIT, leaves no lock behind: neither the lock nor its owner file', async () => {
    const { child, exited } = await startRun('slow.yml');
    const dir = tree.path('simulations', 'slow');
    child.kill('SIGQUIT');
    expect(await exited).toBe(null);
    expect((await waitForGuardian(dir))?.status).toBe('failed');
    // The lock goes at once (the lock library's exit hook); its owner file goes with the guardian.
    const owner = join(dir, '.modelrun', 'run.lock.owner');
    await waitFor(() => !existsSync(owner), 5000);
    expect(
      readdirSync(join(dir, '.modelrun')).filter((name) => name.startsWith('run.lock')),
    ).toEqual([]);
  });

  it('killed with SIGKILL during a command postprocessor, leaves none of its processes', async () => {
    const { child, exited } = await startModelrun(
      ['run', 'quick.yml', '--postprocessor-config', 'slow-post.yml'],
      { cwd: tree.root },
    );
    const pidFile = tree.path('simulations', 'quick', 'post-sleep.pid');
    await waitFor(() => existsSync(pidFile), 5000);
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    child.kill('SIGKILL');
    await exited;
    expect(await waitUntilGone(sleepPid, 8000)).toBe(true);
    expect(await waitForGuardian(tree.path('simulations', 'quick'))).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^modelrun ended before the run did/),
    });
  });

  it('exits at once on a second Ctrl-C, and says what it could not clean up', async () => {
    const { child, exited, output } = await startRun('stubborn.yml');
    const sleepPid = Number(
      readFileSync(tree.path('simulations', 'stubborn', 'sleep.pid'), 'utf8'),
    );
    child.kill('SIGINT');
    // The second Ctrl-C must come once the first is heard, as a person's would.
    const heard = () => output().stderr.includes('press Ctrl-C again to exit at once');
    expect(await waitFor(heard, 10_000)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output().stderr).toMatch(
      /exiting at once; not cleaned up:\n {2}- the local run: process group (\d+) \(kill -TERM -\1\)\n {2}- the lock on /,
    );
    // The report is true: the model ignored SIGTERM and is still there. Clean up after the test.
    expect(isRunning(sleepPid)).toBe(true);
    const group = Number(/process group (\d+)/.exec(output().stderr)?.[1]);
    process.kill(-group, 'SIGKILL');
    expect(await waitUntilGone(sleepPid)).toBe(true);
    // The guardian, told why modelrun left, records a cancelled run rather than a lost one.
    expect(await waitForGuardian(tree.path('simulations', 'stubborn'), 20_000)).toMatchObject({
      status: 'cancelled',
      reason: expect.stringMatching(
        /^interrupted \(SIGINT\): modelrun exited before its cleanup ended/,
      ),
    });
  });
});

describe('secrets whose values read like what modelrun writes itself', () => {
  const words =
    'type: local\nenv_vars:\n  MY_TOKEN: running\n  MY_KEY: local\n  MY_SECRET: succeeded\n';

  it('leave the summary, --json and run.json intact', async () => {
    tree.write('words-backend.yml', words);
    tree.write('words.yml', 'run_id: words\ncommand: "cp .modelrun/run.json during.json"\n');
    const args = ['run', 'words.yml', '--backend-config', 'words-backend.yml'];
    const result = await runModelrun(args, { cwd: tree.root });
    // Failed once in CI with exit code 1 and nothing else to go by: say what the run said.
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('✓ words succeeded (exit code 0');
    const dir = tree.path('simulations', 'words');
    expect(result.stderr).toContain(`run dir   ${dir}`);
    expect(JSON.parse(readFileSync(join(dir, 'during.json'), 'utf8'))).toMatchObject({
      status: 'running',
      backend: { type: 'local' },
    });
    expect(readRunRecord(dir)).toMatchObject({
      status: 'succeeded',
      backend: { type: 'local', config: { type: 'local', env_vars: { MY_TOKEN: '***' } } },
    });
    const json = await runModelrun([...args, '--json'], { cwd: tree.root });
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'succeeded',
      backend: { type: 'local', config: { env_vars: { MY_KEY: '***', MY_SECRET: '***' } } },
    });
  });

  it('killed with SIGKILL, its guardian still marks the run failed', async () => {
    tree.write('words-backend.yml', words);
    tree.write(
      'words-slow.yml',
      'run_id: words-slow\ncommand: "echo started; sleep 300 & echo $! > sleep.pid; wait"\n',
    );
    const { child, exited } = await startModelrun(
      ['run', 'words-slow.yml', '--backend-config', 'words-backend.yml'],
      { cwd: tree.root },
    );
    const dir = tree.path('simulations', 'words-slow');
    const sleepPid = Number(readFileSync(join(dir, 'sleep.pid'), 'utf8'));
    child.kill('SIGKILL');
    await exited;
    expect(await waitUntilGone(sleepPid)).toBe(true);
    expect(await waitForGuardian(dir)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^modelrun ended before the run did/),
      backend: { type: 'local' },
    });
  });

  it("masks a command postprocessor's secret in the summary and run.json", async () => {
    tree.write('quiet.yml', 'run_id: quiet\ncommand: "true"\n');
    tree.write(
      'leaky-post.yml',
      'type: command\ncommand: "echo bad token $PLOT_TOKEN >&2; exit 3"\nenv_vars:\n  PLOT_TOKEN: plot-5f0c9e21\n',
    );
    const result = await runModelrun(
      ['run', 'quiet.yml', '--postprocessor-config', 'leaky-post.yml'],
      { cwd: tree.root },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/✗ command: .* exited 3: bad token \*\*\*/);
    expect(result.stderr).not.toMatch(/✗ command: .*plot-5f0c9e21/);
    expect(
      readFileSync(tree.path('simulations', 'quiet', '.modelrun', 'run.json'), 'utf8'),
    ).not.toContain('plot-5f0c9e21');
  });
});

describe('modelrun generate, postprocess and pipeline', () => {
  it('generate stages the inputs only and prints the staging dir', async () => {
    const result = await runModelrun(['generate', 'wave/model.yml'], { cwd: tree.root });
    expect(result.code).toBe(0);
    const dir = tree.path('wave', 'simulations', 'wave-demo');
    expect(result.stdout).toBe(`${dir}\n`);
    expect(readdirSync(dir).sort()).toEqual([
      '.modelrun',
      'input.json',
      'wave-demo.info.txt',
      'wave.mjs',
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')).period.steps).toHaveLength(25);
  });

  it('postprocess runs postprocessors on an existing run and records them', async () => {
    await runModelrun(['run', 'fail.yml', '--no-postprocess'], { cwd: tree.root });
    const result = await runModelrun(
      ['postprocess', 'fail.yml', '--postprocessor-config', 'checksum.yml'],
      { cwd: tree.root },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✓ checksum: wrote SHA256SUMS \(\d+ files\)/);
    const dir = tree.path('simulations', 'fail');
    expect(
      execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' }),
    ).toContain('logs/stderr.log: OK');
    expect(readRunRecord(dir)?.postprocess).toEqual([
      expect.objectContaining({ type: 'checksum', status: 'succeeded' }),
    ]);
  });

  it('postprocess exits 1 when a postprocessor fails, and runs the rest', async () => {
    await runModelrun(['run', 'fail.yml', '--no-postprocess'], { cwd: tree.root });
    const result = await runModelrun(
      [
        'postprocess',
        'fail.yml',
        '--postprocessor-config',
        'bad-post.yml',
        '--postprocessor-config',
        'checksum.yml',
      ],
      { cwd: tree.root },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ command: `exit 4` exited 4\n✓ checksum/);
  });

  it('pipeline runs an inline model on an inline backend with its postprocessing', async () => {
    tree.write(
      'pipeline.yml',
      'model:\n  run_id: piped\n  command: "echo $MODE > mode.txt"\nbackend:\n  type: local\n  env_vars: { MODE: inline }\npostprocess:\n  - type: checksum\n',
    );
    const result = await runModelrun(['pipeline', 'pipeline.yml'], { cwd: tree.root });
    expect(result.code).toBe(0);
    const dir = tree.path('simulations', 'piped');
    expect(readFileSync(join(dir, 'mode.txt'), 'utf8')).toBe('inline\n');
    expect(existsSync(join(dir, 'SHA256SUMS'))).toBe(true);
  });

  it('pipeline takes the model by path, and --cleanup-on-failure removes a failed run', async () => {
    tree.write('failing-pipeline.yml', 'model: fail.yml\n');
    const result = await runModelrun(['pipeline', 'failing-pipeline.yml', '--cleanup-on-failure'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(removed, with its logs and run.json: --cleanup-on-failure)');
    expect(existsSync(tree.path('simulations', 'fail'))).toBe(false);
  });
});

describe('the examples', () => {
  it('run as the README says: the pipeline file, then the postprocessor configs', async () => {
    cpSync(join(REPO_ROOT, 'examples', 'postprocess'), tree.path('postprocess'), {
      recursive: true,
    });
    const piped = await runModelrun(['pipeline', 'wave/pipeline.yml'], { cwd: tree.root });
    expect(piped.stderr).toContain('✓ archive: wrote');
    expect(piped.code).toBe(0);
    expect(existsSync(tree.path('wave', 'simulations', 'wave-demo.zip'))).toBe(true);
    const configs = readdirSync(join(REPO_ROOT, 'examples', 'postprocess')).flatMap((f) => [
      '--postprocessor-config',
      `postprocess/${f}`,
    ]);
    const post = await runModelrun(['postprocess', 'wave/model.yml', ...configs], {
      cwd: tree.root,
    });
    expect(post.code).toBe(0);
    expect(post.stdout.match(/^✓ /gm)).toHaveLength(configs.length / 2);
  });
});

describe('modelrun validate', () => {
  it('checks model files with the same formats and exit codes as backends validate', async () => {
    const ok = await runModelrun(['validate', 'wave/model.yml', 'fail.yml'], { cwd: tree.root });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /✓ wave\/model\.yml {2}model · run wave-demo · command node wave\.mjs input\.json · period/,
    );
    const bad = await runModelrun(['validate', '--format', 'json', 'invalid.yml'], {
      cwd: tree.root,
    });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)[0]).toMatchObject({ file: 'invalid.yml', valid: false });
    expect((await runModelrun(['validate', 'nope.yml'], { cwd: tree.root })).code).toBe(2);
  });
});
