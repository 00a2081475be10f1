import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { lockStagingDir } from '../model/staging-lock.js';
import { LOCK_OWNER_PATH } from '../model/staging-lock-files.js';
import { replaceFile } from './link-safe.js';

let tree: Tree | undefined;
afterEach(() => tree?.remove());

describe("modelrun's own files in a run directory", () => {
  it('replaces a symlink with the file, leaving its target as it was', async () => {
    tree = makeTree({ 'victim.txt': 'precious\n', 'run/': '' });
    symlinkSync(tree.path('victim.txt'), tree.path('run', 'slurm-job.sh'));
    await replaceFile(tree.path('run', 'slurm-job.sh'), '#!/bin/sh\n', 0o700);
    expect(readFileSync(tree.path('victim.txt'), 'utf8')).toBe('precious\n');
    expect(lstatSync(tree.path('run', 'slurm-job.sh')).isFile()).toBe(true);
    expect(statSync(tree.path('run', 'slurm-job.sh')).mode & 0o100).toBe(0o100);
    expect(readFileSync(tree.path('run', 'slurm-job.sh'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it("writes the staging lock's owner file over a link a model left, not through it", async () => {
    tree = makeTree({ 'victim.txt': 'precious\n' });
    const run = tree.path('run');
    mkdirSync(tree.path('run', '.modelrun'), { recursive: true });
    symlinkSync(tree.path('victim.txt'), tree.path('run', LOCK_OWNER_PATH));
    const lock = await lockStagingDir(run, () => {});
    try {
      expect(readFileSync(tree.path('victim.txt'), 'utf8')).toBe('precious\n');
      expect(JSON.parse(readFileSync(tree.path('run', LOCK_OWNER_PATH), 'utf8'))).toMatchObject({
        pid: process.pid,
      });
    } finally {
      await lock.release();
    }
  });

  it('leaves a file it replaced no temp file beside it', async () => {
    tree = makeTree({ 'a.json': 'old' });
    writeFileSync(tree.path('b'), 'x');
    await replaceFile(tree.path('a.json'), 'new');
    expect(readFileSync(tree.path('a.json'), 'utf8')).toBe('new');
    expect(readdirSync(tree.root).sort()).toEqual(['a.json', 'b']);
  });
});
