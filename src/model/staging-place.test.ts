import { symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { assertStagingPlace, makeStagingDir, stagingFsError } from './staging-place.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('where a run can be staged', () => {
  it.each([
    ['the home folder', (t: Tree) => t.path('home'), 'it is your home folder'],
    ['a folder above the home folder', (t: Tree) => t.root, 'it holds your home folder'],
    ['the root folder', () => '/', 'it holds your home folder'],
    ['a symlink to the home folder', (t: Tree) => t.path('link'), 'it is your home folder'],
    ['a path through a file', (t: Tree) => t.path('file.txt', 'r1'), 'is a file, not a folder'],
    ['/dev/null', () => '/dev/null', 'is a special file'],
    ['under /proc', () => '/proc/modelrun-test/r1', "kernel's proc filesystem"],
    ['under /sys', () => '/sys/modelrun-test/r1', "kernel's sysfs filesystem"],
    ['/proc/self/cwd, as written', () => '/proc/self/cwd/r1', 'it is under /proc'],
    ['/sys as written', () => '/sys/../sys/modelrun-test/r1', 'it is under /sys'],
    ['a symlink into /proc', (t: Tree) => t.path('proc-link', 'r1'), 'it is under /proc'],
    [
      "another run's .modelrun folder",
      (t: Tree) => t.path('sims', 'A', '.modelrun'),
      'it is in a .modelrun folder',
    ],
    [
      "a folder inside another run's .modelrun, in any case",
      (t: Tree) => t.path('sims', 'A', '.ModelRun', 'history'),
      'it is in a .modelrun folder',
    ],
    [
      "a symlink to another run's .modelrun folder",
      (t: Tree) => t.path('book-link', 'r1'),
      'by its real path',
    ],
    ['a 256-byte folder name', (t: Tree) => t.path('x'.repeat(256)), 'longer than 255 bytes'],
    [
      'a 5000-byte path',
      (t: Tree) => t.path(...Array(50).fill('y'.repeat(100))),
      'longer than 4095',
    ],
  ])('refuses %s', async (_name, dir, why) => {
    tree = makeTree({ 'home/.ssh/id': 'secret', 'file.txt': '', 'sims/A/.modelrun/history/': '' });
    symlinkSync(tree.path('home'), tree.path('link'));
    symlinkSync('/proc/self', tree.path('proc-link'));
    symlinkSync(tree.path('sims', 'A', '.modelrun'), tree.path('book-link'));
    await expect(
      assertStagingPlace(dir(tree), tree.path('out'), tree.path('home')),
    ).rejects.toThrow(why);
  });

  it('allows a folder inside the home folder, existing or not', async () => {
    tree = makeTree({ 'home/sims/': '' });
    for (const dir of [tree.path('home/sims'), tree.path('home/sims/new/r1')])
      await expect(assertStagingPlace(dir, dir, tree.path('home'))).resolves.toBeUndefined();
  });

  it('fails at once, rather than looping, to make a folder under /proc', async () => {
    await expect(makeStagingDir('/proc/modelrun-test/r1')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('a failed file operation in the staging dir', () => {
  const fail = (code: string, path: string, syscall = 'mkdir') =>
    Object.assign(new Error(`${code}: ${path}`), { code, path, syscall });

  it.each([
    ['EACCES', '/data/sims/r1', 2, 'permission denied'],
    ['EROFS', '/data/sims/r1/.modelrun', 2, 'read-only filesystem'],
    ['ENOSPC', '/data/sims/r1/logs/stdout.log', 1, 'no space left'],
    ['EACCES', '/data/sims', 2, 'permission denied'],
  ])('%s on %s is an error that names output_dir (exit %i)', (code, path, exitCode, why) => {
    const error = stagingFsError(fail(code, path), '/data/sims/r1', '/data/sims');
    expect(error).toMatchObject({ exitCode, message: expect.stringContaining(why) });
    expect(error?.message).toContain('output_dir /data/sims');
  });

  it.each([
    ['elsewhere', fail('EACCES', '/etc/passwd')],
    ['with a code no one can fix from output_dir', fail('EBADF', '/data/sims/r1')],
    [
      'when a program cannot start',
      fail('EACCES', '/data/sims/r1/m.sh', 'spawn /data/sims/r1/m.sh'),
    ],
  ])('is left as it is %s', (_name, error) => {
    expect(stagingFsError(error, '/data/sims/r1', '/data/sims')).toBeUndefined();
  });
});
