import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext, statKind } from './path-context.js';
import { checkPathKind } from './paths.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('what sits at a config path', () => {
  it.each([
    ['a file', (root: string) => writeFileSync(join(root, 'p'), ''), 'file'],
    ['a folder', (root: string) => mkdirSync(join(root, 'p')), 'directory'],
    ['nothing', () => {}, 'missing'],
    ['a dangling symlink', (root: string) => symlinkSync('nowhere', join(root, 'p')), 'missing'],
    ['a symlink loop', (root: string) => symlinkSync('p', join(root, 'p')), 'unreachable'],
  ])('tells %s', (_name, lay, kind) => {
    tree = makeTree({});
    lay(tree.root);
    expect(statKind(join(tree.root, 'p'))).toBe(kind);
  });

  it('says a symlink loop cannot be reached, instead of throwing', () => {
    tree = makeTree({});
    symlinkSync('model.yml', tree.path('model.yml'));
    const ctx = diskPathContext(tree.root);
    expect(checkPathKind(ctx, 'model.yml', tree.path('model.yml'), 'file')).toMatch(
      /"model\.yml" cannot be reached: it is a symlink loop/,
    );
  });

  it('tells a path under a file as missing', () => {
    tree = makeTree({ f: '' });
    chmodSync(tree.path('f'), 0o644);
    expect(statKind(join(tree.path('f'), 'x'))).toBe('missing');
  });
});
