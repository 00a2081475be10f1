import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { emptyDir, isInside, within } from './staging-dir.js';

describe('emptyDir', () => {
  let tree: Tree;
  afterEach(() => tree.remove());

  it('removes everything but the kept paths', async () => {
    tree = makeTree({
      'a.txt': '',
      'sub/b.txt': '',
      '.modelrun/run.json': '{}',
      '.modelrun/run.lock/': '',
    });
    await emptyDir(tree.root, ['.modelrun/run.lock']);
    expect(['a.txt', 'sub', '.modelrun/run.json'].map((p) => existsSync(tree.path(p)))).toEqual([
      false,
      false,
      false,
    ]);
    expect(existsSync(tree.path('.modelrun/run.lock'))).toBe(true);
  });

  it('removes a symlink inside as a link, never what it points to', async () => {
    tree = makeTree({ 'run/out.txt': '', 'outside/data.txt': 'keep me', 'outside/sub/x': 'x' });
    symlinkSync(tree.path('outside'), tree.path('run/linked-dir'));
    symlinkSync(tree.path('outside/data.txt'), tree.path('run/linked-file'));
    await emptyDir(tree.path('run'), []);
    expect(existsSync(tree.path('run/linked-dir'))).toBe(false);
    expect(readFileSync(tree.path('outside/data.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(tree.path('outside/sub/x'))).toBe(true);
  });
});

describe('isInside and within compare whole path components', () => {
  it.each([
    ['/a/b', '/a/b/c', true, true],
    ['/a/b', '/a/b/..model.yml', true, true],
    ['/a/b', '/a/b/..', false, false],
    ['/a/b', '/a/b/../c', false, false],
    ['/a/b', '/a/b/...', true, true],
    ['/a/b', '/a/b/..x/y', true, true],
    ['/a/b', '/a/bc', false, false],
    ['/a/b', '/a/b', false, true],
    ['/a/b', '/a', false, false],
    ['/', '/x', true, true],
  ])('%s holds %s: inside %s, within %s', (root, path, inside, isWithin) => {
    expect(isInside(root, path)).toBe(inside);
    expect(within(root, path)).toBe(isWithin);
  });
});
