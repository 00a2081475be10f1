import { symlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { linkLeadsOut, linkNotChecksummed } from './link-rule.js';
import type { SelectedEntry } from './select-files.js';

let tree: Tree;
beforeAll(() => {
  tree = makeTree({ 'run/out/a.nc': 'a', 'run/logs/stdout.log': '' });
  symlinkSync('.', tree.path('run/b'));
  symlinkSync('/etc/passwd', tree.path('run/abs'));
  symlinkSync('abs', tree.path('run/chain'));
  symlinkSync('a.nc', tree.path('run/out/same'));
  symlinkSync('same', tree.path('run/out/good-chain'));
  symlinkSync('loop2', tree.path('run/loop1'));
  symlinkSync('loop1', tree.path('run/loop2'));
});
afterAll(() => tree.remove());

describe('linkLeadsOut', () => {
  it.each([
    ['out/same', 'a.nc', undefined],
    ['out/up', '../logs/stdout.log', undefined],
    ['out/folder', '../out', undefined],
    ['out/dot', '.', undefined],
    ['top', 'nowhere', undefined],
    ['top', 'missing/../out/a.nc', undefined],
    ['top', 'out/good-chain', undefined],
    ['top', 'b', undefined],
    ['out/abs', '/etc/hostname', 'outside the run directory'],
    ['out/climb', '../../x', 'outside the run directory'],
    ['top', '..', 'outside the run directory'],
    ['out/sneaky', 'sub/../../../x', 'outside the run directory'],
    ['esc', 'b/../secret', 'through the symlink b, so it could lead anywhere once extracted'],
    ['top', 'b/out/a.nc', 'through the symlink b, so it could lead anywhere once extracted'],
    ['top', 'chain', 'to the symlink chain, which leads out'],
    ['top', 'loop1', 'to a loop of symlinks through loop1'],
    ['loop1', 'loop2', 'to a loop of symlinks through loop1'],
  ])('%s → %s: %s', async (path, target, expected) => {
    expect(await linkLeadsOut(tree.path('run'), path, target)).toBe(expected);
  });
});

describe('linkNotChecksummed', () => {
  const entry = (path: string, target: string) => ({ path, target }) as SelectedEntry;
  it('gives the same reason as the archive for a link through a link', async () => {
    expect(await linkNotChecksummed(tree.path('run'), entry('esc', 'b/../x'))).toMatchObject({
      reason:
        'symlink to b/../x, through the symlink b, so it could lead anywhere once extracted; never followed',
    });
  });
  it('says a link that stays inside is archived as a link', async () => {
    expect(
      await linkNotChecksummed(tree.path('run'), entry('top', 'out/good-chain')),
    ).toMatchObject({
      reason: 'symlink to out/good-chain; archived as a link, not checksummed',
    });
  });
});
