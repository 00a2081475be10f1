import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { assertSafeToEmpty, emptyDir } from './staging-dir.js';

describe('delete_existing safety', () => {
  const where = { cwd: '/work/project/runs', home: '/home/ada' };

  it.each([
    ['/', '/', 'it is the root folder'],
    ['/home/ada', '/home', 'it is your home folder'],
    ['/work/project/runs', '/work/project', 'it is the current folder or one of its parents'],
    ['/work/project', '/work', 'it is the current folder or one of its parents'],
    ['/data/other', '/data/sims', 'it is outside output_dir'],
  ])('refuses to empty %s (output_dir %s)', (staging, outputDir, why) => {
    expect(() => assertSafeToEmpty(staging, outputDir, where)).toThrow(why);
  });

  it.each([
    ['/data/sims/run-1', '/data/sims'],
    ['/data/sims', '/data/sims'],
    ['/work/project/runs/sims/r1', '/work/project/runs/sims'],
  ])('allows %s (output_dir %s)', (staging, outputDir) => {
    expect(() => assertSafeToEmpty(staging, outputDir, where)).not.toThrow();
  });
});

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
});
