import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nobodyUnavailable, runModelrun } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';

/** `modelrun init` through the built CLI (`npm run build` first), as a user runs it. */

let tree: Tree;
beforeEach(() => {
  tree = makeTree();
});
afterEach(() => tree.remove());

describe('modelrun init', () => {
  it('writes a project that validates, dry-runs and runs as written, with its own backend config', async () => {
    const init = await runModelrun(['init', 'proj'], { cwd: tree.root });
    expect(init.code, init.stderr).toBe(0);
    const cwd = tree.path('proj');
    for (const args of [
      ['validate', 'model.yml'],
      ['backends', 'validate', 'local.yml'],
      ['run', 'model.yml', '--dry-run'],
      ['run', 'model.yml', '--backend-config', 'local.yml'],
    ]) {
      const result = await runModelrun(args, { cwd });
      expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    }
    const run = tree.path('proj', 'simulations', 'starter');
    expect(readFileSync(`${run}/input.txt`, 'utf8')).toBe(
      'run_id=starter\ninitial=1000\ndecay_percent=10\nsteps=12\n',
    );
    const series = readFileSync(`${run}/output/series.csv`, 'utf8').trim().split('\n');
    expect(series).toHaveLength(14);
    expect(series.at(-1)).toBe('12,280');
    expect(readFileSync(`${run}/SHA256SUMS`, 'utf8')).toContain('output/series.csv');
  }, 60_000);

  it('is in the command list, with examples and exit codes in its help', async () => {
    const help = await runModelrun(['--help']);
    expect(help.stdout).toMatch(/^ {2}init \[options\] \[dir\] +write a starter project/m);
    const own = await runModelrun(['init', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('modelrun init my-model && cd my-model && modelrun run model.yml');
    expect(own.stdout).toMatch(/Exit codes:\n {2}0 +success\n {2}2 +usage or config error/);
  });

  it('says permission denied, as a usage error, in a folder the user cannot write', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    mkdirSync(tree.path('locked'));
    chmodSync(tree.root, 0o755);
    chmodSync(tree.path('locked'), 0o755);
    for (const dir of ['locked', 'locked/proj']) {
      const result = await runModelrun(['init', dir], { cwd: tree.root, asNobody: true });
      expect(result.stderr).toContain(
        `error: cannot write the starter project in ${dir}: permission denied`,
      );
      expect(result.code).toBe(2);
      expect(readdirSync(tree.path('locked'))).toEqual([]);
    }
  });

  it('removes the files it wrote when a later one cannot be written', async (ctx) => {
    const skip = nobodyUnavailable();
    if (skip !== undefined) return ctx.skip(skip);
    mkdirSync(tree.path('proj', 'template'), { recursive: true });
    chmodSync(tree.root, 0o755);
    chmodSync(tree.path('proj'), 0o777);
    chmodSync(tree.path('proj', 'template'), 0o555);
    const result = await runModelrun(['init', 'proj'], { cwd: tree.root, asNobody: true });
    expect(result.stderr).toContain(
      'error: cannot write the starter project in proj: permission denied',
    );
    expect(result.code).toBe(2);
    expect(readdirSync(tree.path('proj'))).toEqual(['template']);
    expect(readdirSync(tree.path('proj', 'template'))).toEqual([]);
  });
});
