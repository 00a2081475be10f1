import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nobodyUnavailable, runInProcess, runModelrun } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';

/**
 * `backends create` and `backends schema` write only a regular file the user
 * named: never through a symlink, never over a file without --force, never
 * into a folder or a device. Each refusal is a usage error that says what
 * to do, and changes nothing.
 */
let tree: Tree;
beforeEach(() => {
  tree = makeTree({ 'folder/': '', 'notes.txt': 'a file\n', 'outside/kept.yml': 'keep me\n' });
  symlinkSync(tree.path('outside', 'kept.yml'), tree.path('link.yml'));
  symlinkSync(tree.path('outside', 'nowhere.yml'), tree.path('dangling.yml'));
});
afterEach(() => tree.remove());

const commands = {
  create: ['backends', 'create', '--backend-type', 'local'],
  schema: ['backends', 'schema', '--backend-type', 'local'],
};

describe.each(Object.entries(commands))('backends %s --output', (_name, command) => {
  it.each([
    ['folder', /folder is a folder\n {2}hint: give a file name, such as folder\/backend.yml/],
    ['/dev/full', /\/dev\/full is a character device, not a regular file/],
    [
      'link.yml',
      /link.yml is a symlink \(to .*kept.yml\); modelrun does not write through symlinks/,
    ],
    ['dangling.yml', /dangling.yml is a symlink/],
    ['notes.txt/x.yml', /cannot write notes.txt\/x.yml: a folder on its path is a file/],
    ['notes.txt', /notes.txt already exists\n {2}hint: pass --force to overwrite it/],
  ])('refuses %s as a usage error, changing nothing', async (target, message) => {
    const result = await runInProcess([...command, '--output', target], { cwd: tree.root });
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(readFileSync(tree.path('outside', 'kept.yml'), 'utf8')).toBe('keep me\n');
    expect(readFileSync(tree.path('notes.txt'), 'utf8')).toBe('a file\n');
    expect(existsSync(tree.path('outside', 'nowhere.yml'))).toBe(false);
    expect(readdirSync(tree.root).sort()).toEqual([
      'dangling.yml',
      'folder',
      'link.yml',
      'notes.txt',
      'outside',
    ]);
    expect(readdirSync(tree.path('folder'))).toEqual([]);
  });

  it('refuses a symlink even with --force', async () => {
    const result = await runInProcess([...command, '--output', 'link.yml', '--force'], {
      cwd: tree.root,
    });
    expect(result.code).toBe(2);
    expect(readFileSync(tree.path('outside', 'kept.yml'), 'utf8')).toBe('keep me\n');
  });

  it('overwrites a regular file with --force, and creates missing folders', async () => {
    const forced = await runInProcess([...command, '--output', 'notes.txt', '--force'], {
      cwd: tree.root,
    });
    expect(forced.code).toBe(0);
    expect(readFileSync(tree.path('notes.txt'), 'utf8')).toMatch(/local/);
    const nested = await runInProcess([...command, '--output', 'new/deeper/x.yml'], {
      cwd: tree.root,
    });
    expect(nested.code).toBe(0);
    expect(readdirSync(tree.path('new', 'deeper'))).toEqual(['x.yml']);
  });

  it('says permission denied, as a usage error, in a folder the user cannot write', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    mkdirSync(tree.path('locked'));
    chmodSync(tree.root, 0o755);
    chmodSync(tree.path('locked'), 0o755);
    const result = await runModelrun([...command, '--output', 'locked/x.yml'], {
      cwd: tree.root,
      asNobody: true,
    });
    expect(result.stderr).toMatch(/cannot write locked\/x.yml: permission denied/);
    expect(result.code).toBe(2);
    expect(readdirSync(tree.path('locked'))).toEqual([]);
  });
});

describe('backends schema --all --output', () => {
  it('refuses to overwrite any schema without --force, and writes none', async () => {
    writeFileSync(tree.path('folder', 'slurm.schema.json'), 'mine\n');
    const result = await runInProcess(['backends', 'schema', '--all', '--output', 'folder'], {
      cwd: tree.root,
    });
    expect(result.stderr).toMatch(/folder\/slurm.schema.json already exists/);
    expect(result.code).toBe(2);
    expect(readdirSync(tree.path('folder'))).toEqual(['slurm.schema.json']);
    const forced = await runInProcess(
      ['backends', 'schema', '--all', '--output', 'folder', '--force'],
      { cwd: tree.root },
    );
    expect(forced.code).toBe(0);
    expect(readFileSync(tree.path('folder', 'slurm.schema.json'), 'utf8')).toMatch(/"\$schema"/);
  });
});
