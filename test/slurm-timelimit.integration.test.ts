import { afterEach, describe, expect, it } from 'vitest';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { clusterTimeout, runOnCluster, slurmJob, slurmTestBackend } from './helpers/slurm.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

// In a file of its own, so that its minute of waiting overlaps the other tests.
const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** A one-minute limit ends within about 90 s: Slurm looks at limits every 30 s, then KillWait. */
const LIMITED_RUN_MS = 150_000;

describe.skipIf(missing !== undefined)('a job that outlives its Slurm time limit', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  it(
    'ends TIMEOUT: timed out with that reason, no exit code and the SIGTERM Slurm sent',
    async () => {
      tree = makeTree();
      const h = pipelineHarness(
        tree,
        { run_id: uniqueId('slurm-limit'), command: 'sleep 600' },
        slurmTestBackend({ time_limit: '00:01:00' }),
      );
      expect((await runOnCluster(h, { runMs: LIMITED_RUN_MS })).exitCode).toBe(1);
      const record = h.runJson();
      expect(record).toMatchObject({
        status: 'timed_out',
        exit_code: null,
        signal: 'SIGTERM',
        reason: 'the job hit its Slurm time limit (TIMEOUT)',
      });
      // Slurm's own ExitCode for it reads 0:15: the 0 is no exit of the model's.
      expect(slurmJob(record.backend.details.job_id)).toMatchObject({
        JobState: 'TIMEOUT',
        ExitCode: '0:15',
      });
    },
    clusterTimeout(LIMITED_RUN_MS),
  );
});
