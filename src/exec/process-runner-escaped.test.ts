import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isRunning, waitUntilGone } from '../../test/helpers/processes.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { createRunCgroup } from './cgroup.js';
import { newRunMark } from './escaped-processes.js';
import { Launcher } from './launcher.js';
import { runProcess } from './process-runner.js';
import { createRunOutput } from './run-output.js';

let tree: Tree | undefined;
const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  tree?.remove();
  tree = undefined;
});

const PATH = process.env.PATH ?? '/usr/bin:/bin';

/** Runs `script` with /bin/sh as the runner runs a model; the log files land in the tree. */
async function run(
  script: string,
  options: { abortAfterMs?: number; cgroup?: boolean; launcher?: Launcher | undefined } = {},
) {
  tree = makeTree({ 'logs/': '' });
  // An ensemble's members, which the launcher starts, have their output pumped through modelrun.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const handle = await createRunOutput({
    logDir: tree.path('logs'),
    ...(options.launcher === undefined ? {} : { echo: { stdout: discard, stderr: discard } }),
  });
  const stopper = new AbortController();
  if (options.abortAfterMs !== undefined) setTimeout(() => stopper.abort(), options.abortAfterMs);
  const begun = Date.now();
  const outcome = await runProcess(
    { file: '/bin/sh', args: ['-c', script], cwd: tree.root, env: { PATH } },
    handle.output,
    {
      signal: stopper.signal,
      graceMs: 1000,
      runId: 'r1',
      launcher: options.launcher,
      ...(options.cgroup === false ? { createCgroup: () => undefined } : {}),
    },
  );
  await handle.close();
  const daemon = Number(readFileSync(tree.path('daemon.pid'), 'utf8'));
  leftovers.push(daemon);
  return {
    outcome,
    seconds: (Date.now() - begun) / 1000,
    daemon,
    stdout: readFileSync(tree.path('logs', 'stdout.log'), 'utf8'),
  };
}

// On the old code each of these waited for the daemon's pipe: for ever. The
// models wait a moment before they exit, so that the daemon has left the
// group before the group is killed.
// Each as Node's spawn starts the model, and as the launcher does for an ensemble.
const launcher = new Launcher();
afterAll(() => launcher.close());
const starters = [
  ['started by Node', undefined],
  ['started by the launcher', launcher],
] as const;

describe.each(starters)(
  'a model whose daemon left its process group and holds its output (%s)',
  (_by, launcher) => {
    it('is stopped at the timeout, daemon and all, within the grace', {
      timeout: 15_000,
    }, async () => {
      const { outcome, seconds, daemon, stdout } = await run(
        'setsid sleep 300 & echo $! > daemon.pid; echo started; sleep 300',
        { abortAfterMs: 300, launcher },
      );
      expect(seconds).toBeLessThan(4);
      expect(await waitUntilGone(daemon)).toBe(true);
      expect(outcome.escaped).toEqual([{ pid: daemon, command: 'sleep 300', name: 'sleep' }]);
      expect(stdout).toBe('started\n');
    });

    it('is found by its mark alone where there is no cgroup', { timeout: 15_000 }, async () => {
      const { outcome, seconds, daemon } = await run(
        'setsid sh -c "trap \'\' TERM; sleep 300" & echo $! > daemon.pid; echo started; sleep 0.2',
        { cgroup: false, launcher },
      );
      // SIGTERM ignored: SIGKILL once the grace (1 s) is over.
      expect(seconds).toBeLessThan(4);
      expect(await waitUntilGone(daemon)).toBe(true);
      expect(outcome.escaped?.map((p) => p.pid)).toContain(daemon);
    });

    it('no longer waits for a pipe held by a process it cannot find, and keeps what was written', {
      timeout: 15_000,
    }, async () => {
      // `env -i` drops the mark, and no cgroup holds it: nothing can tell it is the run's.
      const { outcome, seconds, daemon, stdout } = await run(
        'env -i setsid sleep 300 & echo $! > daemon.pid; echo started; sleep 0.2',
        { cgroup: false, launcher },
      );
      expect(seconds).toBeLessThan(5);
      expect(outcome).toMatchObject({ exitCode: 0, signal: null });
      expect(outcome.outputError).toBeUndefined();
      expect(stdout).toBe('started\n');
      expect(isRunning(daemon)).toBe(true);
    });
  },
);

/** Whether this machine lets modelrun make a run's cgroup. */
function cgroupsHere(): boolean {
  const probe = createRunCgroup(newRunMark('probe'));
  if (probe === undefined) return false;
  void probe.dispose();
  return true;
}

describe.skipIf(!cgroupsHere()).each(starters)(
  'a model in a cgroup of its own (%s)',
  (_by, launcher) => {
    // On the old code the model joined its cgroup only after it had started,
    // and a child that dropped the mark at once was already outside.
    it('holds a child that clears its environment in the first instant', {
      timeout: 15_000,
    }, async () => {
      const own = () => readFileSync('/proc/self/cgroup', 'utf8');
      const before = own();
      const { outcome, daemon } = await run(
        "env -i /usr/bin/setsid -f /bin/sh -c 'echo $$ > daemon.pid; exec /bin/sleep 300'; /bin/sleep 0.3",
        { launcher },
      );
      expect(outcome.exitCode).toBe(0);
      expect(await waitUntilGone(daemon)).toBe(true);
      expect(outcome.escaped?.map((p) => p.pid)).toContain(daemon);
      // modelrun was in the cgroup only while the model started.
      expect(own()).toBe(before);
    });
  },
);
