import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { makeTree, type Tree } from './helpers/tree.js';

// In a file of its own, so that its minute of waiting overlaps the other tests.
const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

describe.skipIf(missing !== undefined)('a job that outlives its Slurm time limit', () => {
  let tree: Tree;
  afterEach(() => tree?.remove());

  it('ends TIMEOUT, a failure with that reason', async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { command: 'sleep 600' },
      { type: 'slurm', time_limit: '00:01:00' },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    expect(runJson()).toMatchObject({
      status: 'failed',
      reason: 'the job hit its Slurm time limit (TIMEOUT)',
    });
  }, 180_000);
});
