import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModelrun, startModelrun } from './helpers/cli.js';
import { isRunning, waitUntilGone } from './helpers/processes.js';
import { readRunRecord, waitForGuardian } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';

/**
 * A model (or a `command` postprocessor) that leaves a daemon behind in a
 * session of its own, holding the output pipe. modelrun used to wait for
 * that pipe, past the timeout and for ever; the daemon outlived modelrun
 * and its guardian. Each run id has a random part: other checkouts run
 * these tests beside ours.
 */
const tree = treeForEachTest();
const foreign: ChildProcess[] = [];
const daemons: number[] = [];
afterAll(() => {
  for (const pid of [...daemons, ...foreign.map((child) => child.pid as number)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
});

const runId = () => `esc-${randomBytes(4).toString('hex')}`;

/** A model file whose command starts a setsid daemon that writes its pid to daemon.pid. */
function modelFile(id: string, after: string): string {
  // The model waits a moment before it goes on, so the daemon has left the
  // group before anything could kill the group.
  return tree.write(
    `${id}.yml`,
    `run_id: ${id}\ncommand: "setsid sleep 600 & echo $! > daemon.pid; sleep 0.2; echo started; ${after}"\n`,
  );
}

function daemonOf(stagingDir: string): number {
  const pid = Number(readFileSync(`${stagingDir}/daemon.pid`, 'utf8'));
  daemons.push(pid);
  return pid;
}

describe('a process that left the model’s process group', () => {
  it('is stopped and named when the model exits, and the run ends at once', {
    timeout: 30_000,
  }, async () => {
    const id = runId();
    modelFile(id, 'true');
    // Another run's process, by the variable's name: it must survive ours.
    const other = spawn('sleep', ['600'], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, MODELRUN_RUN_MARK: `${id}-0123456789abcdef` },
    });
    foreign.push(other);
    const begun = Date.now();
    const result = await runModelrun(['run', `${id}.yml`, '--no-postprocess'], { cwd: tree.root });
    expect((Date.now() - begun) / 1000).toBeLessThan(10);
    expect(result.code).toBe(0);
    const staging = tree.path('simulations', id);
    const daemon = daemonOf(staging);
    expect(await waitUntilGone(daemon)).toBe(true);
    expect(result.stderr).toContain(
      `warning: stopped 1 process that left the model's process group: ${daemon} sleep 600`,
    );
    expect(readRunRecord(staging)).toMatchObject({
      status: 'succeeded',
      backend: { details: { stopped_escaped_processes: `${daemon} sleep` } },
    });
    expect(readFileSync(`${staging}/logs/stdout.log`, 'utf8')).toBe('started\n');
    expect(isRunning(other.pid as number)).toBe(true);
  });

  it('is stopped with a command postprocessor at its timeout, by SIGTERM', {
    timeout: 30_000,
  }, async () => {
    const id = runId();
    tree.write(`${id}.yml`, `run_id: ${id}\ncommand: "true"\n`);
    // The daemon says which signal ended it: SIGTERM at the timeout, not SIGKILL after the grace.
    tree.write(
      `${id}-post.yml`,
      `type: command\ntimeout: 2\ncommand: ${JSON.stringify('setsid sh -c \'trap "echo TERM > term.txt; exit 0" TERM; sleep 600 & wait\' & echo $! > daemon.pid; sleep 600')}\n`,
    );
    const result = await runModelrun(
      ['run', `${id}.yml`, '--postprocessor-config', `${id}-post.yml`],
      { cwd: tree.root },
    );
    const staging = tree.path('simulations', id);
    const daemon = daemonOf(staging);
    expect(await waitUntilGone(daemon)).toBe(true);
    expect(readFileSync(join(staging, 'term.txt'), 'utf8')).toBe('TERM\n');
    expect(result.stderr + result.stdout).toMatch(
      new RegExp(
        `timed out after 2 s; stopped \\d process(?:es)? that left its process group: ${daemon} sh -c`,
      ),
    );
  });

  it('is stopped by the guardian when modelrun is killed with -9', {
    timeout: 30_000,
  }, async () => {
    const id = runId();
    modelFile(id, 'sleep 600');
    const { child, exited } = await startModelrun(['run', `${id}.yml`, '--no-postprocess'], {
      cwd: tree.root,
    });
    const staging = tree.path('simulations', id);
    // The guardian holds the run's mark before the model starts: the daemon,
    // which carries it, is known to the guardian once it exists.
    const daemon = daemonOf(staging);
    child.kill('SIGKILL');
    await exited;
    expect(await waitUntilGone(daemon, 15_000)).toBe(true);
    expect((await waitForGuardian(staging, 15_000))?.status).toBe('failed');
  });
});
