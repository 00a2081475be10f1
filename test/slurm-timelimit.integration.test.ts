import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { reportMissingEngine, slurmJob, slurmUnavailable } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { makeTree, type Tree } from './helpers/tree.js';

// In a file of its own, so that its minute of waiting overlaps the other tests.
const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

describe.skipIf(missing !== undefined)('a job that outlives its Slurm time limit', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  it('ends TIMEOUT: timed out with that reason, no exit code and the SIGTERM Slurm sent', async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: `timelimit-${randomBytes(4).toString('hex')}`, command: 'sleep 600' },
      { type: 'slurm', cpus_per_task: 1, mem: '100M', time_limit: '00:01:00' },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    const record = runJson();
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
  }, 600_000);
});
