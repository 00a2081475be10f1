import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nobodyUnavailable, runModelrun } from './helpers/cli.js';
import { mountTmpfs, unmount } from './helpers/mount.js';
import { readRunRecord } from './helpers/run-record.js';
import { makeTree, type Tree } from './helpers/tree.js';

let tree: Tree;
const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) unmount(dir);
  tree?.remove();
});

/**
 * A project folder (model file, template, notes of the user's), a fake home
 * and a folder to run from that is neither: nothing may depend on the cwd.
 */
function project(model: string) {
  tree = makeTree({
    'home/.ssh/id_ed25519': 'secret',
    'outside/notes.txt': 'keep me',
    'project/model.yml': model,
    'project/template/input.txt': 'n=1\n',
    'project/notes.txt': 'keep me',
    'elsewhere/': '',
  });
  const run = (...args: string[]) =>
    runModelrun(args, { cwd: tree.path('elsewhere'), env: { HOME: tree.path('home') } });
  return { run, model: tree.path('project', 'model.yml') };
}

const unchanged = () => {
  expect(existsSync(tree.path('project/model.yml'))).toBe(true);
  expect(existsSync(tree.path('project/template/input.txt'))).toBe(true);
  expect(readFileSync(tree.path('project/notes.txt'), 'utf8')).toBe('keep me');
  expect(readFileSync(tree.path('outside/notes.txt'), 'utf8')).toBe('keep me');
  expect(readFileSync(tree.path('home/.ssh/id_ed25519'), 'utf8')).toBe('secret');
};

describe('delete_existing, from a folder other than the model', () => {
  it('refuses output_dir: . with run_id_subdir: false, and deletes nothing', async () => {
    const { run, model } = project(
      'run_id: r1\noutput_dir: .\nrun_id_subdir: false\ndelete_existing: true\ntemplate: ./template\ncommand: "true"\n',
    );
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is output_dir itself');
    expect(result.stderr).toContain('keep run_id_subdir: true');
    unchanged();
  });

  it.each([
    ['the run dir', 'project/simulations/r1', 'outside'],
    ['output_dir', 'project/simulations', 'outside'],
  ])('never empties what a symlinked %s points to', async (_name, link, target) => {
    const { run, model } = project('run_id: r1\ndelete_existing: true\ncommand: "true"\n');
    tree.write('outside/r1/notes.txt', 'keep me');
    mkdirSync(tree.path(link, '..'), { recursive: true });
    symlinkSync(tree.path(target), tree.path(link));
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('modelrun did not stage it');
    expect(readFileSync(tree.path('outside/r1/notes.txt'), 'utf8')).toBe('keep me');
    unchanged();
  });

  it('refuses a symlinked output_dir that leads to the home folder', async () => {
    const { run, model } = project(
      'run_id: r1\noutput_dir: ./sims\nrun_id_subdir: false\ndelete_existing: true\ncommand: "true"\n',
    );
    symlinkSync(tree.path('home'), tree.path('project/sims'));
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/it is your home folder/);
    unchanged();
  });
});

describe('--dry-run', () => {
  it('changes nothing of an earlier run, with delete_existing too', async () => {
    const { run, model } = project(
      'run_id: r1\ndelete_existing: true\ntemplate: ./template\ncommand: "mkdir -p output; echo 1 > output/a.txt"\npostprocess:\n  - type: checksum\n',
    );
    expect((await run('run', model)).code).toBe(0);
    const staging = tree.path('project/simulations/r1');
    const listing = () =>
      readdirSync(staging, { recursive: true, encoding: 'utf8' })
        .sort()
        .map((p) => `${p} ${statSync(join(staging, p)).mtimeMs}`);
    const before = listing();
    const result = await run('run', model, '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run: nothing was staged or started');
    expect(result.stdout).toContain(staging);
    expect(listing()).toEqual(before);
  });
});

describe('modelrun pipeline --cleanup-on-failure', () => {
  it('keeps a project folder that holds the pipeline file, says why, and points at what is kept', async () => {
    const { run } = project('');
    const pipeline = tree.write(
      'project/pipeline.yml',
      'model:\n  run_id: r1\n  output_dir: ./sims\n  command: "exit 1"\n',
    );
    // A run dir that is the project itself, through a symlink.
    mkdirSync(tree.path('project/sims'));
    symlinkSync(tree.path('project'), tree.path('project/sims/r1'));
    const result = await run('pipeline', pipeline, '--cleanup-on-failure');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--cleanup-on-failure kept');
    expect(result.stderr).toContain('pipeline.yml, which this run was made from');
    expect(existsSync(pipeline)).toBe(true);
    unchanged();
  });

  it('refuses a staging dir that is the home folder before running anything', async () => {
    const { run } = project('');
    const pipeline = tree.write(
      'project/pipeline.yml',
      `model:\n  run_id: r1\n  output_dir: ${tree.path('home')}\n  run_id_subdir: false\n  command: "exit 1"\n`,
    );
    const result = await run('pipeline', pipeline, '--cleanup-on-failure');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is your home folder');
    unchanged();
  });

  it('after removing a failed run, says so once and points at none of its files', async () => {
    const { run } = project('');
    const pipeline = tree.write(
      'project/pipeline.yml',
      'model:\n  run_id: r1\n  command: "exit 1"\n',
    );
    const result = await run('pipeline', pipeline, '--cleanup-on-failure');
    expect(result.code).toBe(1);
    expect(existsSync(tree.path('project/simulations/r1'))).toBe(false);
    expect(result.stderr.match(/removed/g)).toHaveLength(1);
    expect(result.stderr).not.toMatch(/logs +\/|record +\//);
  });
});

describe('modelrun postprocess', () => {
  it('refuses a run that does not exist, and creates nothing', async () => {
    const { run, model } = project(
      'run_id: r1\ncommand: "true"\npostprocess:\n  - type: checksum\n',
    );
    const result = await run('postprocess', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no run at ${tree.path('project/simulations/r1')}`);
    expect(result.stderr).toContain('modelrun run');
    expect(existsSync(tree.path('project/simulations'))).toBe(false);
  });

  it('adds its results to those of earlier postprocessing', async () => {
    const { run, model } = project(
      'run_id: r1\ncommand: "true"\npostprocess:\n  - type: checksum\n',
    );
    expect((await run('run', model)).code).toBe(0);
    expect((await run('postprocess', model)).code).toBe(0);
    const record = readRunRecord(tree.path('project/simulations/r1'));
    const results = (record?.postprocess ?? []) as { type: string }[];
    expect(results.map((p) => p.type)).toEqual(['checksum', 'checksum']);
  });
});

describe('an output_dir modelrun cannot stage in', () => {
  it.each([
    ['a file', (t: Tree) => t.write('project/afile', 'x'), 'is a file, not a folder'],
    ['/dev/null', () => '/dev/null', 'is a special file'],
    ['under /sys', () => '/sys/modelrun-test', "kernel's sysfs filesystem"],
    ['under /proc', () => '/proc/modelrun-test', "kernel's proc filesystem"],
    ['too long', (t: Tree) => t.path('x'.repeat(300)), 'longer than 255 bytes'],
  ])('is a clear error, not a bug, when it is %s', async (_name, where, says) => {
    const { run, model } = project('');
    tree.write('project/model.yml', `run_id: r1\noutput_dir: ${where(tree)}\ncommand: "true"\n`);
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('output_dir');
    expect(result.stderr).toContain(says);
  });

  it('refuses a run_id longer than 128 characters', async () => {
    const { run, model } = project(`run_id: ${'a'.repeat(300)}\ncommand: "true"\n`);
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at most 128 characters');
  });

  it('is a clear error when the folder is read-only', async (ctx) => {
    const { run, model } = project('run_id: r1\noutput_dir: ./ro\ncommand: "true"\n');
    const skip = mountTmpfs(tree.path('project/ro'), 'ro,size=64k');
    if (skip !== undefined) return ctx.skip(skip);
    mounts.push(tree.path('project/ro'));
    const result = await run('run', model);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('read-only filesystem');
  });

  it('is a clear error when the user may not write there', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    const { model } = project('run_id: r1\noutput_dir: ./locked\ncommand: "true"\n');
    mkdirSync(tree.path('project/locked'));
    for (const dir of [tree.root, tree.path('project'), tree.path('elsewhere')])
      chmodSync(dir, 0o755);
    chmodSync(model, 0o644);
    const result = await runModelrun(['run', model], {
      cwd: tree.path('elsewhere'),
      env: { HOME: tree.path('home') },
      asNobody: true,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('permission denied');
    expect(result.stderr).toContain('output_dir');
  });
});

describe('a full disk during a run', () => {
  it('fails the run with a clear error and leaves run.json failed, never running', async (ctx) => {
    const { run, model } = project(
      'run_id: r1\noutput_dir: ./full\ncommand: "head -c 400000 /dev/zero > fill.bin; echo after; echo more >&2"\n',
    );
    const skip = mountTmpfs(tree.path('project/full'), 'size=64k');
    if (skip !== undefined) return ctx.skip(skip);
    mounts.push(tree.path('project/full'));
    const result = await run('run', model);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('please report');
    expect(readRunRecord(tree.path('project/full/r1'))?.status).toBe('failed');
  });
});
