import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runInProcess, runModelrun, startModelrun } from './helpers/cli.js';
import { guardianOf, isRunning, waitFor, waitUntilGone } from './helpers/processes.js';
import { readRunRecord } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';

/**
 * `run --detach`, then the terminal goes away, then the run is looked at,
 * waited for and stopped from other shells: real local runs, each with its
 * own state folder for the supervisors' logs.
 */
const tree = treeForEachTest({
  'model.yml':
    'run_id: det\ncommand: "echo started; for i in 1 2 3 4 5 6; do echo $i; sleep 0.3; done; echo done >&2"\npostprocess:\n  - type: command\n    command: "echo post >> ../post-count.txt"\n',
  'long.yml': 'run_id: long\ncommand: "echo started; sleep 60 & wait"\n',
});
const env = () => ({ XDG_STATE_HOME: tree.path('state') });
const staged = (runId: string) => tree.path('simulations', runId);

/** `modelrun run --detach` from a shell of its own, as a terminal runs it; then SIGHUP to that shell's group, as when the terminal closes. */
async function detachThenHangUp(model: string): Promise<{ code: number | null; stdout: string }> {
  const shell = spawn(
    '/bin/sh',
    ['-c', `"$0" "$1" run "$2" --detach; echo "exit $?"; sleep 30`, process.execPath, BIN, model],
    {
      cwd: tree.root,
      env: { ...process.env, NO_COLOR: '1', ...env() },
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let stdout = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  await waitFor(() => /exit \d+/.test(stdout), 20_000);
  process.kill(-(shell.pid ?? 0), 'SIGHUP');
  await new Promise((resolve) => shell.once('close', resolve));
  return { code: Number(/exit (\d+)/.exec(stdout)?.[1] ?? Number.NaN), stdout };
}

/** Writes `<runId>.yml` running `command`, runs it with --detach and `args`, waits for it, and gives its stdout log. */
async function detachedOutput(
  runId: string,
  command: string,
  args: string[] = [],
): Promise<string> {
  tree.write(`${runId}.yml`, `run_id: ${runId}\ncommand: ${JSON.stringify(command)}\n`);
  const detached = await runModelrun(['run', `${runId}.yml`, '--detach', ...args], {
    cwd: tree.root,
    env: env(),
  });
  expect(detached.code).toBe(0);
  expect((await runModelrun(['wait', runId], { cwd: tree.root, env: env() })).code).toBe(0);
  return readFileSync(join(staged(runId), 'logs', 'stdout.log'), 'utf8');
}

/** Detaches long.yml, and gives its record as the detaching command left it: owner and handle on it. */
async function detachLong(): Promise<{ owner: { pid: number }; handle: { pgid: number } }> {
  expect(
    (await runModelrun(['run', 'long.yml', '--detach'], { cwd: tree.root, env: env() })).code,
  ).toBe(0);
  return readRunRecord(staged('long')) as { owner: { pid: number }; handle: { pgid: number } };
}

describe('a detached run', () => {
  it('outlives its terminal: status reports it, wait gives its outcome, the postprocessor runs once, logs has everything', async () => {
    const detached = await detachThenHangUp('model.yml');
    expect(detached.code).toBe(0);
    expect(detached.stdout).toMatch(
      /detached det on local\n {2}run dir {3}.*\n {2}handle {4}process group \d+\n/,
    );
    expect(detached.stdout).toContain(`wait      modelrun wait ${staged('det')}`);
    // Two waits at once: both follow it to its end.
    const [first, second] = await Promise.all([
      runModelrun(['wait', 'det'], { cwd: tree.root }),
      runModelrun(['wait', staged('det')], { cwd: tree.root }),
    ]);
    for (const waited of [first, second]) {
      expect(waited.code).toBe(0);
      expect(waited.stderr).toContain('det succeeded (exit code 0)');
    }
    expect(readFileSync(tree.path('simulations', 'post-count.txt'), 'utf8')).toBe('post\n');
    const logs = await runInProcess(['logs', 'det'], { cwd: tree.root });
    expect(logs.stdout).toBe('started\n1\n2\n3\n4\n5\n6\n');
    expect(
      JSON.parse((await runInProcess(['status', 'det', '--json'], { cwd: tree.root })).stdout),
    ).toMatchObject({
      record: { status: 'succeeded', postprocess: [{ type: 'command', status: 'succeeded' }] },
    });
    // The supervisor's own lines are kept in its log.
    const [log] = readdirSync(tree.path('state', 'modelrun', 'detached'));
    expect(readFileSync(tree.path('state', 'modelrun', 'detached', log ?? ''), 'utf8')).toContain(
      '✓ det succeeded',
    );
  }, 60_000);

  it('goes on when a wait is killed, and another wait follows it to its end', async () => {
    // The model says bye once the test says go: after the second wait has begun, however slow its start.
    tree.write(
      'fail.yml',
      'run_id: fail\ncommand: "echo started; while [ ! -e go ]; do sleep 0.1; done; echo bye; exit 5"\n',
    );
    expect(
      (await runModelrun(['run', 'fail.yml', '--detach'], { cwd: tree.root, env: env() })).code,
    ).toBe(0);
    const killed = spawn(process.execPath, [BIN, 'wait', 'fail'], {
      cwd: tree.root,
      stdio: 'ignore',
    });
    await waitFor(() => isRunning(killed.pid ?? 0), 5000);
    killed.kill('SIGKILL');
    const second = await startModelrun(['wait', 'fail'], {
      cwd: tree.root,
      marker: 'waiting for fail',
      markerOn: 'stderr',
      waitMs: 20_000,
    });
    expect(second.output().stderr).toContain('waiting for fail');
    tree.write('simulations/fail/go', '');
    expect(await second.exited).toBe(1);
    expect(second.output().stdout).toBe('bye\n');
    expect(second.output().stderr).toContain('fail failed (exit code 5)');
  }, 60_000);

  it('is reported truthfully once its supervisor was killed, and cancel leaves nothing running', async () => {
    const record = await detachLong();
    // The supervisor's guardian would stop the model: kill both, as a reboot or an OOM kill of both would.
    process.kill(guardianOf(record.owner.pid), 'SIGKILL');
    process.kill(record.owner.pid, 'SIGKILL');
    expect(await waitUntilGone(record.owner.pid)).toBe(true);
    const status = await runInProcess(['status', 'long'], { cwd: tree.root });
    expect(status.stdout).toMatch(/engine +process \d+ is running/);
    expect(status.stdout).toMatch(/modelrun +pid \d+ on .*, gone: nothing follows the run/);
    const cancelled = await runModelrun(['cancel', 'long'], { cwd: tree.root });
    expect(cancelled.stdout).toContain('stopped through its handle (process-group)');
    expect(await waitUntilGone(record.handle.pgid)).toBe(true);
    expect(readRunRecord(staged('long'))).toMatchObject({ status: 'cancelled' });
  }, 60_000);

  it('is stopped by cancel through its supervisor, which records it cancelled', async () => {
    const record = await detachLong();
    const cancelled = await runModelrun(['cancel', 'long.yml'], { cwd: tree.root });
    expect(cancelled.stdout).toMatch(/^cancelled long: modelrun \(pid \d+\) stopped it\n$/);
    expect(await waitUntilGone(record.handle.pgid)).toBe(true);
    expect(await waitUntilGone(record.owner.pid)).toBe(true);
    const waited = await runModelrun(['wait', 'long'], { cwd: tree.root });
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain('long cancelled');
  }, 60_000);

  it('is stopped through its handle at once when its model put a FIFO where cancel leaves its request', async () => {
    tree.write(
      'fifo.yml',
      'run_id: fifo\ncommand: "mkfifo .modelrun/cancel-request; sleep 60 & wait"\n',
    );
    const run = await runModelrun(['run', 'fifo.yml', '--detach'], { cwd: tree.root, env: env() });
    expect(run.code).toBe(0);
    const record = readRunRecord(staged('fifo')) as { handle: { pgid: number } };
    const request = join(staged('fifo'), '.modelrun', 'cancel-request');
    expect(await waitFor(() => existsSync(request), 20_000)).toBe(true);
    const cancelled = await runModelrun(['cancel', 'fifo'], { cwd: tree.root });
    expect(cancelled.code).toBe(0);
    // The supervisor would never see a FIFO as a request: it is not asked, nor waited for.
    expect(cancelled.stderr).not.toContain('asked modelrun');
    expect(cancelled.stdout).toContain('stopped through its handle (process-group)');
    expect(await waitUntilGone(record.handle.pgid)).toBe(true);
  }, 60_000);

  it("exits with the supervisor's own exit code when it ends before the model starts: 2 for a config error", async () => {
    tree.write('tpl/input.txt', 'x\n');
    tree.write(
      'inside.yml',
      'run_id: inside\ntemplate: ./tpl\noutput_dir: ./tpl\ncommand: "true"\n',
    );
    const result = await runInProcess(['run', 'inside.yml', '--detach'], {
      cwd: tree.root,
      env: env(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is inside the template folder');
    expect(result.stderr).toContain('the supervisor ended (exit code 2) before the model started');
  }, 30_000);

  it.each([
    [['run', 'model.yml', '--detach', '--dry-run'], '--detach and --dry-run go not together'],
    [['run', '-', '--detach'], '--detach cannot read a file from standard input'],
  ])('refuses %j as a usage error, starting nothing', async (args, message) => {
    const result = await runInProcess(args, { cwd: tree.root, env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(() => readdirSync(tree.path('state'))).toThrow();
  });

  it.each([
    ['under /proc, where mkdir -p spins', () => '/proc/nope'],
    ['a file', () => tree.write('state-file', '')],
    [
      'a folder whose modelrun/detached is a link',
      () => {
        mkdirSync(tree.path('linked', 'modelrun'), { recursive: true });
        mkdirSync(tree.path('elsewhere'));
        symlinkSync(tree.path('elsewhere'), tree.path('linked', 'modelrun', 'detached'));
        return tree.path('linked');
      },
    ],
  ])(
    'refuses a state folder that is %s, as a usage error, writing nothing',
    async (_name, state) => {
      const result = await runModelrun(['run', 'model.yml', '--detach'], {
        cwd: tree.root,
        env: { XDG_STATE_HOME: state() },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--detach keeps the supervisor's log in");
      expect(existsSync(tree.path('simulations', 'det'))).toBe(false);
    },
    20_000,
  );

  it('returns once the model has started, though the model moves its run dir at once', async () => {
    tree.write(
      'moving.yml',
      'run_id: moving\ncommand: "mv \\"$PWD\\" \\"$PWD.moved\\"; echo moved; sleep 60"\n',
    );
    const detached = await runModelrun(['run', 'moving.yml', '--detach'], {
      cwd: tree.root,
      env: env(),
    });
    expect(detached.stderr).not.toContain('before the model started');
    expect(detached.code).toBe(0);
    const pgid = Number(/handle {4}process group (\d+)/.exec(detached.stdout)?.[1]);
    const supervisor = Number(/modelrun {2}pid (\d+)/.exec(detached.stdout)?.[1]);
    // Returned while the model runs: its group is there to stop.
    expect(isRunning(pgid)).toBe(true);
    process.kill(-pgid, 'SIGKILL');
    expect(await waitUntilGone(supervisor, 10_000)).toBe(true);
  }, 30_000);

  it("keeps the supervisor's --set values from a config's ${VAR}, so a secret one reaches no command line", async () => {
    const output = await detachedOutput('peek', 'echo [${MODELRUN_DETACHED_OVERRIDES:-none}]', [
      '--set',
      'backend.env_vars.API_TOKEN=hunter2',
    ]);
    expect(output).toBe('[none]\n');
  }, 30_000);

  it("does not hand the supervisor's own setting to the model", async () => {
    expect(await detachedOutput('env', 'echo detached=$MODELRUN_DETACHED')).toBe('detached=\n');
  }, 30_000);

  it("runs with the --set values it was given, a secret one kept out of its record and its supervisor's log", async () => {
    const output = await detachedOutput(
      'set',
      'echo $MODE $API_TOKEN handed=$MODELRUN_DETACHED_OVERRIDES',
      ['--set', 'backend.env_vars.MODE=layered', '--set', 'backend.env_vars.API_TOKEN=hunter2'],
    );
    expect(output).toBe('layered hunter2 handed=\n');
    const record = readFileSync(join(staged('set'), '.modelrun', 'run.json'), 'utf8');
    expect(JSON.parse(record).overrides).toEqual([
      '--set backend.env_vars.MODE=layered',
      '--set backend.env_vars.API_TOKEN=***',
    ]);
    expect(record).not.toContain('hunter2');
    // Nor did the supervisor's log: its overrides came in its environment.
    const logs = readdirSync(tree.path('state', 'modelrun', 'detached'));
    for (const log of logs)
      expect(readFileSync(tree.path('state', 'modelrun', 'detached', log), 'utf8')).not.toContain(
        'hunter2',
      );
  }, 30_000);
});
