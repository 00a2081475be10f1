import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Starts the slowest files first, so that their waiting overlaps the rest
 * of the suite instead of trailing after it: the Slurm time-limit test waits
 * about a minute for the cluster to end its job.
 */
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const weight = (file: TestSpecification) =>
      /timelimit|integration/.test(file.moduleId) ? 0 : 1;
    return [...sorted].sort((a, b) => weight(a) - weight(b));
  }
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // End-to-end tests start the built CLI as a process; give slow machines room.
    testTimeout: 20_000,
    sequence: { sequencer: SlowFirst },
    // Most of the suite waits on processes and engines, not on the CPU: more
    // workers than cores keep those waits overlapping.
    maxWorkers: 4,
  },
});
