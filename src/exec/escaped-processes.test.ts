import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ignoresSignal,
  isRunning,
  killedAfterEach,
  waitFor,
  waitUntilGone,
} from '../../test/helpers/processes.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import {
  describeStopped,
  findEscaped,
  findMarked,
  MARK_VARIABLE,
  markBelongsTo,
  newRunMark,
  stopEscaped,
} from './escaped-processes.js';

let tree: Tree | undefined;
const started = killedAfterEach();
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

/** A fake /proc: one folder per pid, with its environment and command line. */
function fakeProc(processes: Record<string, string[] | undefined>) {
  const spec: Record<string, string> = { 'self/': '', cpuinfo: '' };
  for (const [pid, environ] of Object.entries(processes)) {
    spec[`${pid}/cmdline`] = `sleep\u0000${pid}\u0000`;
    spec[`${pid}/comm`] = 'sleep\n';
    if (environ !== undefined) spec[`${pid}/environ`] = `${environ.join('\u0000')}\u0000`;
  }
  tree = makeTree(spec);
  return { procRoot: tree.root, uid: process.getuid?.(), self: 1 };
}

/** A process holding `env` and nothing else, in a session of its own. */
function sleeper(env: Record<string, string>, ignoreTerm = false): number {
  const child = spawn(
    '/bin/sh',
    ['-c', ignoreTerm ? "trap '' TERM; sleep 300" : 'exec sleep 300'],
    {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    },
  );
  started.push(child);
  return child.pid as number;
}

describe('the scan for a run’s mark', () => {
  it('finds exactly the processes whose environment holds the run’s value', () => {
    const mark = 'r1-00112233aabbccdd';
    const scope = fakeProc({
      '100': ['PATH=/bin', `${MARK_VARIABLE}=${mark}`, 'HOME=/root'],
      '101': [`${MARK_VARIABLE}=r1-99999999aabbccdd`],
      '102': [`${MARK_VARIABLE}=${mark}0`],
      '103': [`X${MARK_VARIABLE}=${mark}`],
      '104': [`SOMETHING=${MARK_VARIABLE}=${mark}`],
      '105': undefined,
      '106': [`SOMETHING=${MARK_VARIABLE}=${mark}`, `${MARK_VARIABLE}=${mark}`],
      // Larger than the buffer the scan starts with.
      '107': [`BIG=${'x'.repeat(200_000)}`, `${MARK_VARIABLE}=${mark}`],
      '1': [`${MARK_VARIABLE}=${mark}`],
    });
    expect(findMarked(mark, scope)).toEqual([
      { pid: 100, command: 'sleep 100', name: 'sleep' },
      { pid: 106, command: 'sleep 106', name: 'sleep' },
      { pid: 107, command: 'sleep 107', name: 'sleep' },
    ]);
  });

  it("counts as escaped only a process outside the model's group, not one that is gone by the time its group is read", () => {
    const mark = newRunMark('r1');
    const scope = fakeProc({
      '100': [`${MARK_VARIABLE}=${mark}`],
      '101': [`${MARK_VARIABLE}=${mark}`],
      '102': [`${MARK_VARIABLE}=${mark}`],
    });
    // 100 is in the model's group 50, 101 left it; 102 has no stat: it died as it was found.
    tree?.write('100/stat', '100 (sleep) S 1 50 50 0\n');
    tree?.write('101/stat', '101 (sleep) S 1 101 101 0\n');
    expect(findEscaped(mark, { scope, exceptGroup: 50 }).map((p) => p.pid)).toEqual([101]);
  });

  it('never counts processes of another user', () => {
    const mark = newRunMark('r1');
    const scope = fakeProc({ '100': [`${MARK_VARIABLE}=${mark}`] });
    expect(findMarked(mark, { ...scope, uid: (scope.uid ?? 0) + 4242 })).toEqual([]);
  });

  it('gives each run a mark of its own, led by the run id', () => {
    const [a, b] = [newRunMark('wave-1'), newRunMark('wave-1')];
    expect(a).toMatch(/^wave-1-[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });
});

describe('stopping what left the group', () => {
  it('stops marked processes, SIGKILL for those that ignore SIGTERM, and spares another run’s', async () => {
    const mark = newRunMark('r1');
    const polite = sleeper({ [MARK_VARIABLE]: mark });
    const stubborn = sleeper({ [MARK_VARIABLE]: mark }, true);
    const foreign = sleeper({ [MARK_VARIABLE]: newRunMark('r1') });
    // The shell must have set its trap before SIGTERM comes.
    expect(await waitFor(() => ignoresSignal(stubborn, 'SIGTERM'), 10_000)).toBe(true);
    const begun = Date.now();
    const found = await stopEscaped(mark, { killAt: Date.now() + 500 });
    expect(Date.now() - begun).toBeLessThan(3000);
    const pids = found.map((p) => p.pid);
    expect(pids).toEqual(expect.arrayContaining([polite, stubborn]));
    expect(pids).not.toContain(foreign);
    expect(await waitUntilGone(polite)).toBe(true);
    expect(await waitUntilGone(stubborn)).toBe(true);
    expect(isRunning(foreign)).toBe(true);
  });

  it('says what it stopped, with pids and command lines', () => {
    expect(
      describeStopped([{ pid: 4242, command: 'sleep 600', name: 'sleep' }], "the model's"),
    ).toBe("stopped 1 process that left the model's process group: 4242 sleep 600");
  });

  it('names ten of many, and counts the rest', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({
      pid: 1000 + i,
      command: 'sleep 600',
      name: 'sleep',
    }));
    const line = describeStopped(many, "the model's");
    expect(line).toMatch(
      /^stopped 50 processes that left the model's process group: 1000 sleep 600; /,
    );
    expect(line).toMatch(/; 1009 sleep 600; and 40 more$/);
  });
});

describe('a mark made for a run dir', () => {
  let dirs: Tree | undefined;
  afterEach(() => dirs?.remove());

  it('belongs to that folder, also through a link, and to no other, not even a copy', () => {
    dirs = makeTree({ 'run/': '', 'copy/': '' });
    symlinkSync(dirs.path('run'), dirs.path('link'));
    const mark = newRunMark('wave', dirs.path('run'));
    expect(mark).toMatch(/^wave-[0-9a-f]{16}\.[0-9a-f]{8}$/);
    expect(markBelongsTo(mark, dirs.path('run'))).toBe(true);
    expect(markBelongsTo(mark, dirs.path('link'))).toBe(true);
    expect(markBelongsTo(mark, dirs.path('copy'))).toBe(false);
    // Two runs of one folder get marks of their own.
    expect(newRunMark('wave', dirs.path('run'))).not.toBe(mark);
    // A mark made before marks named their folder names none: it is taken at its word.
    expect(markBelongsTo('wave-0123456789abcdef', dirs.path('copy'))).toBe(true);
    expect(markBelongsTo(newRunMark('wave'), dirs.path('copy'))).toBe(true);
  });
});
