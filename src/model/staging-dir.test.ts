import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { emptyDir } from './staging-dir.js';

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
