import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { makeFakeApptainer } from './helpers/fake-apptainer.js';
import { waitFor, waitUntilGone } from './helpers/processes.js';
import { waitForGuardian } from './helpers/run-record.js';
import { makeTree } from './helpers/tree.js';

/**
 * The files that hold a run's secret values (the env files containers and
 * jobs read) live only while the run needs them, whatever ends modelrun.
 */
const fake = makeFakeApptainer();
const tree = makeTree({ 'image.sif': 'fake SIF\n' });
afterAll(() => {
  tree.remove();
  fake.remove();
});

/** Runs the built CLI with the fake apptainer on PATH, and waits until `pidFile` names the model's sleep. */
async function startApptainerRun(runId: string) {
  tree.write(
    `${runId}.yml`,
    `run_id: ${runId}\ncommand: "sleep 300 & echo $! > sleep.pid; wait"\n`,
  );
  tree.write(
    'apptainer.yml',
    `type: apptainer\nimage: ${tree.path('image.sif')}\nenv_vars:\n  API_TOKEN: \${API_TOKEN}\n`,
  );
  const child = spawn(
    process.execPath,
    [BIN, 'run', `${runId}.yml`, '--backend-config', 'apptainer.yml'],
    { cwd: tree.root, env: fake.env({ NO_COLOR: '1', API_TOKEN: 'tok-s3cr3t' }), stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const dir = tree.path('simulations', runId);
  const pidFile = join(dir, 'sleep.pid');
  // The guardian holds the env file and the run's mark before the model
  // starts, so a kill from the moment the model runs leaves nothing behind.
  expect(await waitFor(() => existsSync(pidFile), 30_000)).toBe(true);
  return { child, exited, dir, sleepPid: Number(readFileSync(pidFile, 'utf8')) };
}

describe('apptainer.env', () => {
  it('is removed by the guardian when modelrun is killed with SIGKILL', async () => {
    const runId = `secret-kill-${randomBytes(4).toString('hex')}`;
    const { child, exited, dir, sleepPid } = await startApptainerRun(runId);
    const envFile = join(dir, '.modelrun', 'apptainer.env');
    expect(readFileSync(envFile, 'utf8')).toContain('tok-s3cr3t');
    child.kill('SIGKILL');
    await exited;
    expect((await waitForGuardian(dir, 15_000))?.status).toBe('failed');
    expect(await waitUntilGone(sleepPid, 15_000)).toBe(true);
    expect(existsSync(envFile)).toBe(false);
  }, 60_000);
});
