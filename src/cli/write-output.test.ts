import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { UsageError } from '../errors.js';
import { checkOutputFile, writeOutputFile } from './write-output.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('--output', () => {
  it('refuses an empty path, saying it is empty rather than a folder', async () => {
    tree = makeTree({ 'dir/': '' });
    const file = { path: tree.path('dir'), shown: '' };
    for (const attempt of [checkOutputFile(file, true), writeOutputFile(file, 'x', true)]) {
      const error = await attempt.catch((e: Error) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe('--output is empty: it names no file to write');
      expect((error as UsageError).hint).toMatch(/leave --output out to print to stdout/);
    }
    expect(readdirSync(tree.path('dir'))).toEqual([]);
  });
});
