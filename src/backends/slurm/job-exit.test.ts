import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { slurmConfigSchema } from './config.js';
import { readJobExit } from './job-exit.js';
import { batchScript, jobCommand } from './script.js';
import { ARRAY_TASK_ID_VARIABLE } from './script-name.js';

const tree = treeForEachTest({ 'run/.modelrun/': '', 'elsewhere/': '' });

/** Runs the batch script as the job would, with bash, for job `id`; gives its exit status. */
function runScript(command: string, id = '812', env: Record<string, string> = {}): number {
  const stagingDir = tree.path('run');
  const config = slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', command });
  const job = { runId: 'r', stagingDir, modelCommand: undefined };
  const text = batchScript(config, job, jobCommand(config, job, undefined));
  try {
    execFileSync('bash', ['-c', text], {
      cwd: stagingDir,
      env: { PATH: process.env.PATH, SLURM_JOB_ID: id, ...env },
      stdio: 'ignore',
    });
    return 0;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe("the batch script keeps the command's exit status", () => {
  it.each([
    ['exits with a status', 'echo hi; exit 4', 4],
    ['replaces its shell with exec', 'exec sh -c "exit 7"', 7],
    ['succeeds', 'true', 0],
    ['is killed by a signal', 'kill -9 $BASHPID', 137],
    ['leaves a heredoc open', 'cat <<EOF\nbody\nexit 3', 0],
    ['has a stray parenthesis in a comment', 'true # )\nexit 2', 2],
  ])('for a command that %s', async (_how, command, status) => {
    expect(runScript(command)).toBe(status);
    expect(await readJobExit(tree.path('run'), '812')).toBe(status);
  });

  it("is kept and read under an ensemble's array task, as its member follows it", async () => {
    // The array script names the task; Slurm's own SLURM_JOB_ID is another id.
    expect(runScript('exit 4', '900', { [ARRAY_TASK_ID_VARIABLE]: '812_3' })).toBe(4);
    expect(await readJobExit(tree.path('run'), '812_3')).toBe(4);
    expect(await readJobExit(tree.path('run'), '900')).toBeUndefined();
  });

  it('is read only for the job that kept it', async () => {
    runScript('exit 3', '812');
    expect(await readJobExit(tree.path('run'), '813')).toBeUndefined();
  });

  it.each([
    [
      'a link, kept as a link',
      () => symlinkSync(tree.path('elsewhere/target'), tree.path('run/.modelrun/job-exit')),
    ],
    ['a folder', () => mkdirSync(tree.path('run/.modelrun/job-exit'))],
  ])('writes nothing through %s that a model left in its place', async (_what, plant) => {
    plant();
    writeFileSync(tree.path('elsewhere/target'), 'mine\n');
    expect(runScript('exit 5')).toBe(5);
    expect(readFileSync(tree.path('elsewhere/target'), 'utf8')).toBe('mine\n');
  });

  it('writes nothing when .modelrun is a link', async () => {
    execFileSync('rm', ['-r', tree.path('run/.modelrun')]);
    symlinkSync(tree.path('elsewhere'), tree.path('run/.modelrun'));
    expect(runScript('exit 6')).toBe(6);
    expect(execFileSync('ls', ['-A', tree.path('elsewhere')], { encoding: 'utf8' })).toBe('');
  });

  it.each([
    ['another shape', '812 zero\n'],
    ['a status past 255', '812 256\n'],
    ['more than one line', '812 0\n812 1\n'],
  ])('reads no status from a file of %s', async (_what, text) => {
    writeFileSync(join(tree.path('run/.modelrun'), 'job-exit'), text);
    expect(await readJobExit(tree.path('run'), '812')).toBeUndefined();
  });
});
