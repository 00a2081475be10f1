import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { assertMayEmpty, deletionVerdict } from './deletion-rule.js';

let tree: Tree;
afterEach(() => tree?.remove());

/**
 * A project with a model file and template, a fake home, an outside folder
 * and some runs. Links are `name -> target`, relative to the tree.
 */
function project(links: Record<string, string> = {}) {
  tree = makeTree({
    'home/.ssh/id_ed25519': 'secret',
    'outside/notes.txt': 'keep me',
    'outside/r1/notes.txt': 'keep me',
    'staged/.modelrun/run.json': '{}',
    'staged/out.txt': '',
    'project/model.yml': 'run_id: r1\n',
    'project/template/input.txt': '',
    'project/sims/marked/.modelrun/run.json': '{}',
    'project/sims/marked/out.txt': '',
    'project/sims/unmarked/mine.txt': '',
    'project/sims/empty/': '',
    'project/sims/with-model/.modelrun/': '',
    'project/sims/with-model/model.yml': '',
    'project/sims/fake-mark/out.txt': '',
  });
  symlinkSync(tree.path('staged/.modelrun'), tree.path('project/sims/fake-mark/.modelrun'));
  for (const [name, target] of Object.entries(links))
    symlinkSync(tree.path(target), tree.path(name));
  return {
    outputDir: tree.path('project/sims'),
    home: tree.path('home'),
    sources: [
      tree.path('project/model.yml'),
      tree.path('project/template'),
      tree.path('project/sims/with-model/model.yml'),
    ],
  };
}

/** The run.json of a run B that says `status`. */
function recordSaying(status: string): string {
  return JSON.stringify({
    run_id: 'B',
    status,
    started_at: '2026-12-01T10:00:00.000Z',
    backend: { type: 'slurm', config: { type: 'slurm' } },
    stages: {
      generate: { status: 'succeeded' },
      run: { status },
      postprocess: { status: 'pending' },
    },
    postprocess: [],
  });
}

describe('the rule for every folder modelrun deletes', () => {
  it.each([
    ['a folder modelrun staged', 'project/sims/marked', {}, 'project/sims/marked'],
    ['an empty folder, which has nothing to lose', 'project/sims/empty', {}, 'project/sims/empty'],
    [
      'a staged folder reached through a symlinked run dir',
      'project/sims/r1',
      { 'project/sims/r1': 'staged' },
      'staged',
    ],
  ])('allows %s', async (_name, dir, links, real) => {
    const ctx = project(links);
    expect(await deletionVerdict(tree.path(dir), ctx)).toEqual({
      allowed: true,
      real: tree.path(real),
    });
  });

  it('allows a folder that does not exist, with nothing to delete', async () => {
    const ctx = project();
    expect(await deletionVerdict(tree.path('project/sims/new'), ctx)).toEqual({
      allowed: true,
      real: undefined,
    });
  });

  it.each([
    ['a folder the user made', 'project/sims/unmarked', {}, 'modelrun did not stage it'],
    ['a .modelrun that is only a symlink', 'project/sims/fake-mark', {}, 'only a symlink'],
    ['output_dir itself (run_id_subdir: false)', 'project/sims', {}, 'it is output_dir itself'],
    ['a folder holding the model file', 'project', {}, 'model.yml, which this run was made from'],
    ['a staged folder the model file was moved into', 'project/sims/with-model', {}, 'model.yml'],
    ['the home folder', 'home', {}, 'it is your home folder'],
    ['a folder above the home folder', '', {}, 'it holds your home folder'],
    ['the root folder', '/', {}, 'it is the root folder'],
    [
      'a run dir linked to the home folder',
      'project/sims/r1',
      { 'project/sims/r1': 'home' },
      'it is your home folder (',
    ],
    [
      'a run dir linked to an outside folder',
      'project/sims/r1',
      { 'project/sims/r1': 'outside' },
      'modelrun did not stage it',
    ],
    [
      'a run dir linked to the folder above the project',
      'project/sims/r1',
      { 'project/sims/r1': '.' },
      'it holds your home folder',
    ],
    [
      'a run dir inside an output_dir linked elsewhere',
      'project/out/r1',
      { 'project/out': 'outside' },
      'modelrun did not stage it',
    ],
  ])('refuses %s', async (_name, dir, links, why) => {
    const ctx = project(links);
    const path = dir.startsWith('/') ? dir : tree.path(dir);
    const verdict = await deletionVerdict(path, ctx);
    expect(verdict.allowed).toBe(false);
    expect(verdict.allowed ? '' : verdict.why).toContain(why);
  });

  it.each([
    [
      'whose staging lock is in use',
      { 'B/.modelrun/run.lock/': '' },
      0,
      'its staging lock is held by a modelrun',
    ],
    [
      'whose record says it runs (a detached job holds no lock)',
      { 'deep/B/.modelrun/run.json': recordSaying('submitted') },
      0,
      'its record says submitted',
    ],
    ['that ended, with a lock its dead modelrun left', { 'B/.modelrun/run.lock/': '' }, 60_000, ''],
    ['that ended', { 'B/.modelrun/run.json': recordSaying('succeeded') }, 0, ''],
  ])(
    'with another run staged inside it %s: refused only while that run may still be going',
    async (_name, files, lockAgeMs, why) => {
      const ctx = project();
      const run = tree.path('project/sims/marked');
      for (const [name, text] of Object.entries(files)) {
        const path = join(run, name);
        if (name.endsWith('/')) mkdirSync(path, { recursive: true });
        else {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, text);
        }
        const aged = new Date(Date.now() - lockAgeMs);
        utimesSync(path, aged, aged);
      }
      const verdict = await deletionVerdict(run, ctx);
      if (why === '') expect(verdict).toEqual({ allowed: true, real: run });
      else {
        expect(verdict.allowed).toBe(false);
        expect(verdict.allowed ? '' : verdict.why).toContain(
          `the staging dir of another run that may still be going (${why})`,
        );
      }
    },
  );

  it('does not depend on the current folder', async () => {
    const ctx = project();
    const from = process.cwd();
    try {
      process.chdir(tree.path('project'));
      const here = await deletionVerdict(tree.path('project/sims/unmarked'), ctx);
      process.chdir(tree.path('outside'));
      const there = await deletionVerdict(tree.path('project/sims/unmarked'), ctx);
      expect(there).toEqual(here);
    } finally {
      process.chdir(from);
    }
  });

  it('is a ConfigError for delete_existing that says why and what to do', async () => {
    const ctx = project();
    await expect(assertMayEmpty(tree.path('project/sims'), ctx)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('delete_existing refuses to empty'),
      hint: expect.stringContaining('keep run_id_subdir: true'),
    });
  });
});
