import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startModelrun } from './helpers/cli.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { clusterTimeout, TEST_JOB_YAML } from './helpers/slurm.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** How long the sbatch shim waits before it runs the real sbatch: the moment modelrun is killed in. */
const SBATCH_DELAY_S = 2;

let tree: Tree | undefined;
let jobName: string | undefined;
afterEach(() => {
  // A job the guardian failed to cancel must not hold the cluster's only node.
  if (jobName !== undefined) execFileSync('scancel', ['-n', jobName]);
  tree?.remove();
  tree = undefined;
  jobName = undefined;
});

/** States of every job of this name that Slurm still knows, ended ones too. */
function jobStates(name: string): string[] {
  return execFileSync('squeue', ['-h', '--states=all', '-n', name, '-o', '%T'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

/**
 * Starts modelrun with an sbatch that waits before it submits, and SIGKILLs
 * modelrun while that sbatch waits: the job is submitted by an sbatch whose
 * modelrun never hears of it.
 */
async function killDuringSbatch(files: Record<string, string>, args: string[]) {
  const realSbatch = execFileSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).trim();
  tree = makeTree({
    ...files,
    // modelrun's check asks `sbatch --version` first; only the submission waits.
    'shim/sbatch': `#!/bin/sh\ncase "$1" in --version) ;; *) : > "$SBATCH_STARTED"; sleep ${SBATCH_DELAY_S} ;; esac\nexec ${realSbatch} "$@"\n`,
  });
  chmodSync(tree.path('shim', 'sbatch'), 0o755);
  const started = tree.path('sbatch.started');
  const run = await startModelrun(args, {
    cwd: tree.root,
    waitMs: 0,
    env: { PATH: `${tree.path('shim')}:${process.env.PATH}`, SBATCH_STARTED: started },
  });
  for (let i = 0; i < 1200 && !existsSync(started); i++) await sleep(25);
  expect(existsSync(started), run.output().stderr).toBe(true);
  run.child.kill('SIGKILL');
  await run.exited;
}

/** Waits until every job of the name has ended; returns their states. */
async function untilEnded(name: string, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  let states = jobStates(name);
  while (
    Date.now() < until &&
    (states.length === 0 || states.some((s) => /PENDING|RUNNING|CONFIGURING/.test(s)))
  ) {
    await sleep(250);
    states = jobStates(name);
  }
  return states;
}

describe.skipIf(missing !== undefined)('a modelrun killed while sbatch submits', () => {
  it(
    "leaves no job behind: its guardian finds the run's job by its script and cancels it",
    async () => {
      const runId = uniqueId('sbatch-killed');
      jobName = `modelrun-${runId}`;
      await killDuringSbatch(
        {
          'model.yml': `run_id: ${runId}\ncommand: "sleep 300"\n`,
          'slurm.yml': `type: slurm\n${TEST_JOB_YAML}job_name: ${jobName}\n`,
        },
        ['run', 'model.yml', '--backend-config', 'slurm.yml'],
      );
      // Submitted after modelrun died, found and cancelled by the guardian.
      expect(await untilEnded(jobName, 30_000)).toEqual(['CANCELLED']);
    },
    clusterTimeout(60_000),
  );

  it(
    "leaves no job array behind: the ensemble's array is cancelled whole",
    async () => {
      const id = uniqueId('sbatch-killed-ens');
      // An array is named by its ensemble.
      jobName = `modelrun-${id}`;
      const backend = TEST_JOB_YAML.replace(/^/gm, '  ');
      await killDuringSbatch(
        {
          'model.yml': `run_id: m\ncommand: "sleep 300"\n`,
          'ensemble.yml': `model: model.yml\nensemble_id: ${id}\nreplicas: 3\nmax_parallel: 1\nbackend:\n  type: slurm\n${backend}`,
        },
        ['ensemble', 'ensemble.yml'],
      );
      const states = await untilEnded(jobName, 30_000);
      expect(states.length).toBeGreaterThan(0);
      expect(new Set(states)).toEqual(new Set(['CANCELLED']));
    },
    clusterTimeout(60_000),
  );
});
