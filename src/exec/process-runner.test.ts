import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { Launcher } from './launcher.js';
import { runProcess } from './process-runner.js';
import { createRunOutput } from './run-output.js';

let tree: Tree;
afterEach(() => tree?.remove());

const BIG = 'a'.repeat(200_000);
const PATH = process.env.PATH ?? '';

// Node's spawn throws these at once; on the old code the run then waited
// forever for a process that never existed, hence the short timeouts.
describe('a process the system refuses to start', () => {
  it.each([
    ['an environment too large', { file: 'true', env: { PATH, BIG } }, 'E2BIG'],
    ['a file name too long', { file: `/${'a'.repeat(5000)}`, env: { PATH } }, 'ENAMETOOLONG'],
  ])('%s ends at once as a start failure', { timeout: 5000 }, async (_what, spec, code) => {
    tree = makeTree();
    const handle = await createRunOutput({});
    const outcome = await runProcess({ ...spec, args: [], cwd: tree.root }, handle.output, {
      signal: new AbortController().signal,
      graceMs: 1000,
    });
    await handle.close();
    expect(outcome).toMatchObject({ exitCode: null, signal: null, startCode: code });
    expect(outcome.startError).toContain(code);
  });

  it('still reports a program that does not exist as the run failing to start', async () => {
    tree = makeTree();
    const handle = await createRunOutput({});
    const outcome = await runProcess(
      { file: tree.path('missing'), args: [], cwd: tree.root, env: { PATH } },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    await handle.close();
    expect(outcome).toMatchObject({ exitCode: null, startCode: 'ENOENT' });
    expect(outcome.startError).toContain('ENOENT');
  });
});

describe('what the guardian is handed', () => {
  it('the run’s mark before the model starts, then its group, then nothing', async () => {
    tree = makeTree();
    const handle = await createRunOutput({});
    const events: string[] = [];
    const live = new Set<string>();
    const cgroups: (string | undefined)[] = [];
    const outcome = await runProcess(
      { file: '/bin/sh', args: ['-c', 'true'], env: { PATH }, cwd: tree.root },
      handle.output,
      {
        signal: new AbortController().signal,
        graceMs: 1000,
        onStart: () => events.push('started'),
        // A stand-in under the test's folder, which takes every process it is given.
        createCgroup: (mark) => ({
          dir: tree.path(`modelrun-${mark}`),
          join: () => true,
          members: () => [],
          kill: () => {},
          dispose: async () => {},
        }),
        guard: (task) => {
          const name = task.kind === 'process-group' && task.pgid !== undefined ? 'group' : 'mark';
          // Both carry the cgroup, which the guardian removes.
          if (task.kind === 'process-group') cgroups.push(task.cgroup);
          if (task.kind === 'process-group' && task.mark !== undefined) live.add(name);
          events.push(`guard ${name}`);
          return () => {
            live.delete(name);
            events.push(`unguard ${name}`);
          };
        },
      },
    );
    await handle.close();
    expect(outcome.exitCode).toBe(0);
    // A modelrun killed between the start and the group's registration still
    // leaves the guardian a way to find the model: its mark.
    expect(events).toEqual([
      'guard mark',
      'started',
      'guard group',
      'unguard mark',
      'unguard group',
    ]);
    expect(live.size).toBe(0);
    expect(cgroups).toEqual([
      expect.stringMatching(/modelrun-/),
      expect.stringMatching(/modelrun-/),
    ]);
  });
});

describe('a process the launcher started', () => {
  // On the old code a run whose helper was stopped (SIGSTOP) waited for ever
  // for an end the helper would never tell, and Ctrl-C could not end it.
  it('is taken for ended once killed, though its stopped helper never says so', {
    timeout: 10_000,
  }, async () => {
    tree = makeTree();
    const launcher = new Launcher();
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    const handle = await createRunOutput({ echo: { stdout: discard, stderr: discard } });
    const stopper = new AbortController();
    let helper: number | undefined;
    const running = runProcess(
      { file: '/bin/sleep', args: ['30'], cwd: tree.root, env: { PATH } },
      handle.output,
      {
        signal: stopper.signal,
        graceMs: 200,
        launcher,
        onStart: (pid) => {
          helper = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
          process.kill(helper, 'SIGSTOP');
          stopper.abort();
        },
      },
    );
    try {
      const outcome = await running;
      await handle.close();
      expect(outcome).toMatchObject({ exitCode: null, signal: null });
      expect(outcome.endUnknown).toMatch(/how it ended is not known/);
    } finally {
      if (helper !== undefined) process.kill(helper, 'SIGCONT');
      launcher.close();
    }
  });
});

describe('a run that is stopped', () => {
  // On the old code the group was killed as soon as its leader ended: a
  // shell that does not trap TERM (sh -c) ends at once, and what it started
  // lost the grace it was shutting down in.
  it('gives what the model started its whole grace, though the shell that started it ends at once', {
    timeout: 10_000,
  }, async () => {
    tree = makeTree();
    const handle = await createRunOutput({});
    const stopper = new AbortController();
    const model =
      'trap "sleep 0.5; echo bye > bye.txt; exit 1" TERM; echo > started; sleep 30 & wait';
    const running = runProcess(
      // `; true`: the outer shell cannot exec its command, and has no trap of its own.
      { file: '/bin/sh', args: ['-c', `sh -c '${model}'; true`], cwd: tree.root, env: { PATH } },
      handle.output,
      { signal: stopper.signal, graceMs: 5000 },
    );
    for (let i = 0; i < 200 && !existsSync(tree.path('started')); i++) await sleep(25);
    stopper.abort();
    const outcome = await running;
    await handle.close();
    expect(outcome.signal).toBe('SIGTERM');
    expect(readFileSync(tree.path('bye.txt'), 'utf8')).toBe('bye\n');
  });
});
