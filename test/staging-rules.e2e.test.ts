import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type CliResult, nobodyUnavailable, runModelrun } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';

/**
 * Holes in the staging rule that a hostile tester found: a staging dir that
 * is the template, a `..name` that counted as outside, a `.modelrun` link,
 * cleanup of an earlier run, a dangling output_dir, undeletable files, and
 * signals during rendering. Each runs the built CLI from a folder of its own.
 */
let tree: Tree;
// Removing the 16,000 files of the signal tests can outlast the default hook timeout on a loaded machine.
afterEach(() => tree?.remove(), 60_000);

const run = (...args: string[]) =>
  runModelrun(args, { cwd: tree.root, env: { HOME: tree.path('home') } });

const noBug = (result: CliResult) => {
  expect(result.stderr).not.toContain('please report');
  expect(result.stderr).not.toMatch(/\n\s+at /);
};

describe('a staging dir and the template folder', () => {
  it('refuses a staging dir that is the template folder, before anything is created', async () => {
    tree = makeTree({
      'home/': '',
      'tpl/_b.txt': 'id={{ runtime.run_id }}',
      'tpl/.a.txt': 'id={{ runtime.run_id }}',
      'm.yml': 'run_id: tpl\ntemplate: ./tpl\noutput_dir: .\ncommand: "true"\n',
    });
    const result = await run('run', 'm.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is the template folder');
    noBug(result);
    expect(readFileSync(tree.path('tpl/_b.txt'), 'utf8')).toBe('id={{ runtime.run_id }}');
    expect(readFileSync(tree.path('tpl/.a.txt'), 'utf8')).toBe('id={{ runtime.run_id }}');
    expect(readdirSync(tree.path('tpl')).sort()).toEqual(['.a.txt', '_b.txt']);
  });

  it('refuses an output_dir inside the template folder with a short message', async () => {
    tree = makeTree({
      'home/': '',
      'tpl/in.txt': 'x',
      'm.yml': 'run_id: r1\ntemplate: ./tpl\noutput_dir: ./tpl/sim\ncommand: "true"\n',
    });
    const result = await run('generate', 'm.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('inside the template folder');
    expect(result.stderr.length).toBeLessThan(1000);
    expect(readdirSync(tree.path('tpl'))).toEqual(['in.txt']);
  });

  it('refuses a staging dir that holds the template folder, even through a symlink', async () => {
    tree = makeTree({
      'home/': '',
      'project/tpl/in.txt': 'x',
      'm.yml':
        'run_id: r1\ntemplate: ./project/tpl\noutput_dir: ./link\nrun_id_subdir: false\ncommand: "true"\n',
    });
    symlinkSync(tree.path('project'), tree.path('link'));
    const result = await run('run', 'm.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it holds the template folder');
    expect(readdirSync(tree.path('project'))).toEqual(['tpl']);
  });

  it.each([[[]], [['--dry-run']]])(
    'never stages a template entry over the model file (%j)',
    async (extra) => {
      const model =
        'run_id: r1\ntemplate: ../tpl\noutput_dir: .\nrun_id_subdir: false\ncommand: "true"\n';
      tree = makeTree({ 'home/': '', 'tpl/m.yml': 'overwritten', 'p/m.yml': model });
      const result = await run('run', 'p/m.yml', ...extra);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('a file this run was made from');
      noBug(result);
      expect(readFileSync(tree.path('p/m.yml'), 'utf8')).toBe(model);
    },
  );
});

describe('a name that starts with ..', () => {
  it('counts as inside the staging dir: delete_existing keeps the model file', async () => {
    tree = makeTree({
      'home/': '',
      'sim/r1/.modelrun/': '',
      'tpl/': '',
      'sim/r1/..model.yml':
        'run_id: r1\noutput_dir: ..\ntemplate: ../../tpl\ndelete_existing: true\ncommand: "true"\n',
    });
    const result = await run('run', 'sim/r1/..model.yml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('which this run was made from');
    expect(existsSync(tree.path('sim/r1/..model.yml'))).toBe(true);
  });
});

describe('a .modelrun that is a symlink', () => {
  it.each([['run'], ['generate'], ['pipeline'], ['postprocess']])(
    '%s refuses it and writes nothing behind it',
    async (command) => {
      tree = makeTree({
        'home/': '',
        'victim/run.json': '{"run_id":"r1","status":"succeeded"}',
        'simulations/r1/': '',
        'm.yml': 'run_id: r1\ncommand: "true"\npostprocess:\n  - type: checksum\n',
        'pipe.yml': 'model: m.yml\n',
      });
      symlinkSync(tree.path('victim'), tree.path('simulations/r1/.modelrun'));
      const result = await run(command, command === 'pipeline' ? 'pipe.yml' : 'm.yml');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('.modelrun is a symlink');
      expect(result.stderr).toContain('remove');
      expect(readdirSync(tree.path('victim'))).toEqual(['run.json']);
      expect(readFileSync(tree.path('victim/run.json'), 'utf8')).toBe(
        '{"run_id":"r1","status":"succeeded"}',
      );
    },
  );
});

describe('--cleanup-on-failure on a rerun', () => {
  it('keeps a staging dir that held an earlier run, with a warning that says why', async () => {
    tree = makeTree({
      'home/': '',
      'tpl/in.txt': 'x',
      'pipe.yml':
        "model:\n  run_id: r1\n  template: ./tpl\n  command: 'echo v > result-$(date +%s%N).dat; test -e FAIL && exit 1; true'\n",
    });
    expect((await run('pipeline', 'pipe.yml')).code).toBe(0);
    const first = readdirSync(tree.path('simulations/r1')).filter((n) => n.startsWith('result-'));
    writeFileSync(tree.path('tpl/FAIL'), '');
    const result = await run('pipeline', 'pipe.yml', '--cleanup-on-failure');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--cleanup-on-failure kept');
    expect(result.stderr).toContain('before this run began');
    for (const name of first) expect(existsSync(tree.path('simulations/r1', name))).toBe(true);
    expect(readdirSync(tree.path('simulations/r1/.modelrun/history'))).toHaveLength(1);
  });
});

describe('an output_dir that is a dangling symlink', () => {
  it.each([
    ['run', 'true'],
    ['generate', 'true'],
    ['run', 'false'],
    ['generate', 'false'],
  ])(
    '%s (run_id_subdir: %s) names output_dir and where the link points',
    async (command, subdir) => {
      tree = makeTree({
        'home/': '',
        'm.yml': `run_id: r1\noutput_dir: ./sims\nrun_id_subdir: ${subdir}\ncommand: "true"\n`,
      });
      symlinkSync('/x/nowhere/deeper', tree.path('sims'));
      const result = await run(command, 'm.yml');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('output_dir');
      expect(result.stderr).toContain('is a symlink to /x/nowhere/deeper, which does not exist');
      noBug(result);
    },
  );
});

describe('files modelrun may not remove', () => {
  /** Runs the built CLI as nobody, in a tree nobody can use. */
  const runAsNobody = (...args: string[]) =>
    runModelrun(args, {
      cwd: tree.root,
      env: { HOME: tree.path('home') },
      asNobody: true,
    });
  // The model makes a folder it cannot write to: as nobody, what is in it cannot be removed.
  const lockedIn = 'mkdir rootdir && touch rootdir/f && chmod 555 rootdir';
  const nobodyTree = (files: Record<string, string>) => {
    tree = makeTree({ 'home/': '', ...files });
    chmodSync(tree.root, 0o777);
    for (const name of Object.keys(files)) chmodSync(tree.path(name), 0o644);
  };

  it('--cleanup-on-failure keeps what it cannot remove, names it, and exits 1', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    nobodyTree({ 'pipe.yml': `model:\n  run_id: r1\n  command: "${lockedIn}; exit 1"\n` });
    const result = await runAsNobody('pipeline', 'pipe.yml', '--cleanup-on-failure');
    expect(result.code).toBe(1);
    noBug(result);
    expect(result.stderr).toContain('--cleanup-on-failure kept');
    expect(result.stderr).toContain(join('rootdir', 'f'));
    expect(result.stderr).toContain('r1 failed');
    expect(existsSync(tree.path('simulations/r1/rootdir/f'))).toBe(true);
  });

  it('delete_existing says it cannot remove the file, not write to it', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    nobodyTree({ 'm.yml': `run_id: r1\ncommand: "${lockedIn}"\n` });
    expect((await runAsNobody('run', 'm.yml')).code).toBe(0);
    writeFileSync(tree.path('m.yml'), 'run_id: r1\ndelete_existing: true\ncommand: "true"\n');
    const result = await runAsNobody('run', 'm.yml');
    expect(result.code).toBe(2);
    noBug(result);
    expect(result.stderr).toContain(`cannot remove ${tree.path('simulations/r1/rootdir/f')}`);
  });
});

describe('a signal while the template renders', () => {
  /** A template slow enough to render that a signal lands in the middle of it. */
  const bigTemplate = () => {
    tree = makeTree({ 'home/': '', 'm.yml': 'run_id: r1\ntemplate: ./tpl\ncommand: "true"\n' });
    mkdirSync(tree.path('tpl'));
    for (let i = 0; i < 8000; i++)
      writeFileSync(tree.path('tpl', `f${i}.txt`), '{{ runtime.run_id }}\n');
  };
  /** Starts modelrun, waits until `rendering()` shows the template half staged, then sends SIGTERM. */
  const interrupt = async (args: string[], rendering: () => boolean) => {
    mkdirSync(tree.path('tmp'));
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tree.root,
      // The dry run renders into a scratch folder under TMPDIR, where the test can see it.
      env: { ...process.env, HOME: tree.path('home'), TMPDIR: tree.path('tmp'), NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // A fixed wait raced modelrun's start on a loaded machine; a staged file cannot.
    for (let i = 0; i < 800 && !rendering(); i++) await sleep(25);
    child.kill('SIGTERM');
    const signalled = Date.now();
    const code = await exited;
    return { code, stdout, stderr, seconds: (Date.now() - signalled) / 1000 };
  };
  const staged = (dir: string) => existsSync(join(dir, 'f0.txt'));

  it('run --dry-run stops promptly and points at no file that does not exist', async () => {
    bigTemplate();
    const result = await interrupt(['run', 'm.yml', '--dry-run'], () =>
      readdirSync(tree.path('tmp')).some((name) => staged(tree.path('tmp', name))),
    );
    expect(result.seconds).toBeLessThan(4);
    expect(result.code).toBe(143);
    expect(result.stdout + result.stderr).toContain('dry run interrupted');
    expect(result.stdout + result.stderr).not.toMatch(/record +\/|logs +\//);
    expect(existsSync(tree.path('simulations'))).toBe(false);
  }, 30_000);

  it('generate stops promptly, says so and releases its lock', async () => {
    bigTemplate();
    const result = await interrupt(['generate', 'm.yml'], () =>
      staged(tree.path('simulations/r1')),
    );
    expect(result.seconds).toBeLessThan(4);
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('interrupted');
    expect(readdirSync(tree.path('simulations/r1/.modelrun'))).toEqual([]);
  }, 30_000);
});

describe("a run staged in another run's .modelrun folder", () => {
  it.each([
    [
      'run_id: .modelrun',
      'run_id: .modelrun\noutput_dir: ./simulations/A\n',
      'cannot be ".modelrun"',
    ],
    [
      'run_id: .MODELRUN',
      'run_id: .MODELRUN\noutput_dir: ./simulations/A\n',
      'cannot be ".modelrun"',
    ],
    [
      'an output_dir in .modelrun',
      'run_id: history\noutput_dir: ./simulations/A/.modelrun\n',
      'it is in a .modelrun folder',
    ],
  ])(
    'is refused (%s), and the other run keeps its record and history',
    async (_name, head, says) => {
      tree = makeTree({
        'home/': '',
        'template/f.txt': 'x',
        'a.yml': 'run_id: A\ntemplate: ./template\ncommand: "echo hi"\n',
      });
      const b = (del: boolean) =>
        writeFileSync(
          tree.path('b.yml'),
          `${head}template: ./template\ncommand: "echo B"\ndelete_existing: ${del}\n`,
        );
      expect((await run('run', 'a.yml')).code).toBe(0);
      expect((await run('run', 'a.yml')).code).toBe(0);
      const book = tree.path('simulations/A/.modelrun');
      const before = readdirSync(book, { recursive: true }).sort();
      const record = readFileSync(join(book, 'run.json'), 'utf8');
      // The first run would stage in A's .modelrun/; the second would then empty it.
      for (const del of [false, true]) {
        b(del);
        const result = await run('run', 'b.yml');
        noBug(result);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(says);
      }
      expect(readdirSync(book, { recursive: true }).sort()).toEqual(before);
      expect(readFileSync(join(book, 'run.json'), 'utf8')).toBe(record);
    },
    // Four runs and four refusals, each a CLI start.
    60_000,
  );
});

describe('--cleanup-on-failure and a symlink the user made', () => {
  it('keeps the symlink and the folder it leads to', async () => {
    tree = makeTree({
      'home/': '',
      'A/template/f.txt': 'x',
      'A/precious_empty/': '',
      'A/model.yml': 'run_id: ra\ntemplate: ./template\ncommand: "exit 1"\n',
      'A/pipe.yml': 'model: model.yml\nbackend: {type: local}\n',
    });
    mkdirSync(tree.path('A/simulations'));
    symlinkSync('../precious_empty', tree.path('A/simulations/ra'));
    const result = await run('pipeline', 'A/pipe.yml', '--cleanup-on-failure');
    noBug(result);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--cleanup-on-failure kept');
    expect(existsSync(tree.path('A/simulations/ra'))).toBe(true);
    expect(existsSync(tree.path('A/precious_empty'))).toBe(true);
  });
});
