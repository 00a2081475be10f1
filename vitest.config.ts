import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** A shuffle that one seed repeats: `vitest run --sequence.seed=N` runs that order again. */
function seededShuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Runs the files in a random order, every run, so that no test can lean on
 * another having run first; the seed is printed at the start. The slowest
 * files still start first, in a random order among themselves, so that
 * their waiting overlaps the rest of the suite instead of trailing after
 * it: the Slurm time-limit test waits about a minute for the cluster to end
 * its job.
 */
class SlowFirstShuffled extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const shuffled = seededShuffle(files, this.ctx.config.sequence.seed);
    const weight = (file: TestSpecification) =>
      /timelimit|integration/.test(file.moduleId) ? 0 : 1;
    return shuffled.sort((a, b) => weight(a) - weight(b));
  }
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // End-to-end tests start the built CLI as a process; give slow machines room.
    testTimeout: 20_000,
    // Tests within a file run in a random order too, from the same seed.
    sequence: { sequencer: SlowFirstShuffled, shuffle: { files: true, tests: true } },
    // Most of the suite waits on processes and engines, not on the CPU: more
    // workers than cores keep those waits overlapping.
    maxWorkers: 4,
    // No site config of the user's (~/.config/modelrun/site.yml) may change what a test sees:
    // a test that wants one names it with MODELRUN_SITE_CONFIG.
    env: {
      MODELRUN_SITE_CONFIG: '',
      XDG_CONFIG_HOME: '/nonexistent/modelrun-tests-have-no-config',
    },
  },
});
