import { symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../../test/helpers/tree.js';
import { filenameMatcher } from './filename.js';
import { refuseOutputLinks } from './output-links.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('the names an output pattern can give', () => {
  it.each([
    ['slurm-%j.out', 'slurm-123.out', true],
    ['slurm-%j.out', 'slurm-.out', true],
    ['slurm-%j.out', 'slurm-123.err', false],
    ['slurm-%j.out', 'xslurm-1.out', false],
    ['%x-%5j.%N.log', 'job-00042.node1.log', true],
    ['100%%-%j', '100%-7', true],
    ['a.b', 'axb', false],
    ['no\\%j', 'no%j', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(filenameMatcher(pattern).test(name)).toBe(expected);
  });
});

describe('links where Slurm writes the output', () => {
  it('refuses a link with a name the pattern can give, naming it and the field', async () => {
    tree = makeTree({ 'logs/': '', 'outside/file': 'precious' });
    symlinkSync(tree.path('outside', 'file'), tree.path('logs', 'slurm-12.out'));
    await expect(
      refuseOutputLinks(tree.path('logs', 'slurm-%j.out'), 'output_file'),
    ).rejects.toThrow(
      `${tree.path('logs', 'slurm-12.out')} is a symlink where Slurm writes the job's output`,
    );
  });

  it('lets other links and plain files be', async () => {
    tree = makeTree({ 'logs/slurm-3.out': 'an earlier job', 'outside/file': 'x' });
    symlinkSync(tree.path('outside', 'file'), tree.path('logs', 'notes.txt'));
    await expect(
      refuseOutputLinks(tree.path('logs', 'slurm-%j.err'), 'error_file'),
    ).resolves.toBeUndefined();
  });
});
