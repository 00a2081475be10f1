import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { identify, presence } from './process-identity.js';

let tree: Tree | undefined;
afterEach(() => tree?.remove());

/** A /proc of one process, `pid`, in state `state`, started at `start` ticks. */
function fakeProc(pid: number, state: string, start: number, boot = 'boot-a'): string {
  tree = makeTree({
    [`${pid}/stat`]: `${pid} (odd) name) ${state} 1 ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 100\n`,
    'sys/kernel/random/boot_id': `${boot}\n`,
  });
  return tree.root;
}

describe('process identity', () => {
  it('names this process as alive, and the same pid started at another time as gone', () => {
    const self = identify(process.pid);
    expect(self).toMatchObject({ pid: process.pid, host: hostname() });
    expect(self === undefined ? 'none' : presence(self)).toBe('alive');
    if (self?.start === undefined) throw new Error('no start time');
    expect(presence({ ...self, start: self.start + 1 })).toBe('gone');
  });

  it.each([
    ['running, same start', 'S', 500, {}, 'alive'],
    ['a zombie, which has exited', 'Z', 500, {}, 'gone'],
    ['the pid reused by a later process', 'R', 900, {}, 'gone'],
    ['a pid of an earlier boot', 'S', 500, { boot_id: 'boot-b' }, 'gone'],
    ['on another host', 'S', 500, { host: 'elsewhere.example' }, 'elsewhere'],
  ])('reads %s', (_name, state, start, named, expected) => {
    const procRoot = fakeProc(4321, state, start);
    expect(
      presence({ pid: 4321, host: hostname(), boot_id: 'boot-a', start: 500, ...named }, procRoot),
    ).toBe(expected);
  });

  it('counts the start time from the last parenthesis of a name that holds some', () => {
    expect(identify(4321, fakeProc(4321, 'S', 777))).toMatchObject({
      start: 777,
      boot_id: 'boot-a',
    });
  });

  it('names a process that has exited as gone', async () => {
    const child = spawn('/bin/sh', ['-c', 'exit 0']);
    const pid = child.pid ?? 0;
    const named = identify(pid) ?? { pid, host: hostname() };
    await new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(presence(named)).toBe('gone');
  });
});
