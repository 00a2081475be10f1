import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModelrun, startModelrun } from './helpers/cli.js';
import { waitUntilGone } from './helpers/processes.js';
import { treeForEachTest } from './helpers/tree.js';

/**
 * A command that returns after a signal, rather than being exited by the
 * entry point, must still exit as shells report the signal: 128 plus its
 * number, whichever signal it was.
 */
const tree = treeForEachTest({
  'quick.yml': 'run_id: quick\ncommand: "true"\n',
  'slow-post.yml':
    'type: command\ncommand: "sleep 300 & echo $! > post-sleep.pid; echo started; wait"\n',
  'slow.yml': 'run_id: slow\ncommand: "echo started; sleep 300 & wait"\n',
});

describe('the exit code of an interrupted command', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    'postprocess on %s exits %i, and stops its postprocessor',
    async (signal, code) => {
      const run = await runModelrun(['run', 'quick.yml', '--no-postprocess'], { cwd: tree.root });
      expect(run.code).toBe(0);
      const { child, exited, output } = await startModelrun(
        ['postprocess', 'quick.yml', '--postprocessor-config', 'slow-post.yml'],
        { cwd: tree.root },
      );
      const sleepPid = Number(
        readFileSync(tree.path('simulations', 'quick', 'post-sleep.pid'), 'utf8'),
      );
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(await waitUntilGone(sleepPid)).toBe(true);
      // It says what it stops: the postprocessing, not a run.
      expect(output().stderr).toContain(`${signal}: stopping the postprocessing and cleaning up`);
    },
    40_000,
  );

  it('pipeline on SIGTERM exits 143', async () => {
    tree.write('pipeline.yml', 'model: slow.yml\n');
    const { child, exited } = await startModelrun(['pipeline', 'pipeline.yml'], {
      cwd: tree.root,
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
  });
});
