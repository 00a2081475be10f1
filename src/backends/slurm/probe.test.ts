import { chmodSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { EngineUnavailableError } from '../../errors.js';
import type { RunJob } from '../contract.js';
import { slurmConfigSchema } from './config.js';
import { slurmBackend } from './index.js';

/**
 * `backends list` and a run ask Slurm through one check: for the same
 * failure they give the same detail and hint. Slurm's commands are small
 * scripts on a PATH of their own, so no cluster is needed.
 */

const tree = makeTree({ 'staging/': '' });
afterAll(() => tree.remove());

const JOB: RunJob = { runId: 'probe-test', stagingDir: tree.path('staging'), modelCommand: 'true' };
const config = slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm' });

/** A folder of Slurm commands, each a shell script, to be the whole PATH. */
function commands(name: string, scripts: Record<string, string>): string {
  for (const [command, body] of Object.entries(scripts))
    chmodSync(tree.write(`${name}/${command}`, `#!/bin/sh\n${body}\n`), 0o755);
  return tree.path(name);
}

const PING_UP = 'test "$1" = ping && echo "Slurmctld(primary) at ctl is UP"';

/** What a run's check throws on this PATH, through the runner's own Slurm client. */
async function runCheck(env: NodeJS.ProcessEnv): Promise<EngineUnavailableError> {
  const runner = await slurmBackend.createRunner(config, JOB, { env, status: () => {} });
  const error = await runner.check().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineUnavailableError);
  return error as EngineUnavailableError;
}

describe('the Slurm check, for backends list and for a run', () => {
  it.each([
    {
      name: 'no Slurm command on PATH',
      path: () => commands('none', {}),
      detail: 'scontrol is not on PATH, so Slurm cannot be used from here',
      hint: /^run modelrun on a login node/,
    },
    {
      name: 'scontrol but no sbatch on PATH',
      path: () => commands('no-sbatch', { scontrol: PING_UP }),
      detail: 'sbatch is not on PATH, so Slurm cannot be used from here',
      hint: /^run modelrun on a login node/,
    },
    {
      name: 'a controller that is down',
      path: () =>
        commands('down', {
          scontrol: 'echo "Slurmctld(primary) at ctl is DOWN"; exit 1',
          sbatch: 'echo "slurm 24.05.0"',
        }),
      detail: 'the Slurm controller is unreachable: Slurmctld(primary) at ctl is DOWN',
      hint: /^check that slurmctld runs/,
    },
  ])('gives the same detail and hint with $name', async ({ path, detail, hint }) => {
    const env = { PATH: path() };
    const listed = await slurmBackend.probe({ env, timeoutMs: 5000 });
    const error = await runCheck(env);
    expect(listed).toEqual({ available: false, detail, hint: expect.stringMatching(hint) });
    expect(error.message).toBe(listed.detail);
    expect(error.hint).toBe(listed.hint);
  });

  it('passes a run, and lists the cluster, when the controller answers and sbatch runs', async () => {
    const env = {
      PATH: commands('up', {
        scontrol: `${PING_UP} && exit 0
test "$1" = show && printf 'ClusterName = lab\\nSLURM_VERSION = 24.05.0\\n'`,
        sbatch: 'echo "slurm 24.05.0"',
        sinfo: 'echo "debug* up 1"',
      }),
    };
    const runner = await slurmBackend.createRunner(config, JOB, { env, status: () => {} });
    await expect(runner.check()).resolves.toBeUndefined();
    expect(await slurmBackend.probe({ env, timeoutMs: 5000 })).toEqual({
      available: true,
      detail: 'cluster lab, Slurm 24.05.0; partitions: debug* (up, 1 node)',
    });
  });
});
