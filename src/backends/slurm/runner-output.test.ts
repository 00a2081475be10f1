import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COMPLETED,
  PENDING,
  RUNNING,
  type Setup,
  setupSlurmRunner,
} from '../../../test/helpers/slurm-runner.js';
import { makeTree } from '../../../test/helpers/tree.js';

const tree = makeTree();
afterAll(() => tree.remove());
const setup = (options?: Setup) => setupSlurmRunner(tree, options);

describe("the job's output", () => {
  it('is tailed while the job runs, and read to its end after', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          { ...RUNNING, stdout: 'step 1\n', stderr: 'warming up\n' },
          { ...RUNNING, stdout: 'step 2\n' },
          { ...COMPLETED, stdout: 'done\n', stderr: 'bye\n' },
        ],
      },
    });
    const { text } = await run();
    expect(text).toEqual({ stdout: 'step 1\nstep 2\ndone\n', stderr: 'warming up\nbye\n' });
  });

  it('takes lines a shared filesystem shows late, up to two quiet looks 100 ms apart', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          RUNNING,
          {
            ...COMPLETED,
            stdout: 'last\n',
            late: { afterMs: 150, stdout: 'late\n', stderr: 'late too\n' },
          },
        ],
      },
    });
    expect((await run()).text).toEqual({ stdout: 'last\nlate\n', stderr: 'late too\n' });
  });

  it('does not wait for lines later than that', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          RUNNING,
          { ...COMPLETED, stdout: 'last\n', late: { afterMs: 1000, stdout: 'lost\n' } },
        ],
      },
    });
    expect((await run()).text.stdout).toBe('last\n');
  });

  it('stops reading a file that keeps growing after 20 looks', async () => {
    const { run, slurm, clock, stagingDir } = setup({ slurm: { steps: [RUNNING, COMPLETED] } });
    const out = join(stagingDir, 'logs', 'slurm-4242.out');
    const grow = () => {
      appendFileSync(out, 'x\n');
      clock.after(100, grow);
    };
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      const state = await query(id);
      if (state?.state === 'COMPLETED') grow();
      return state;
    };
    const { text } = await run();
    expect(text.stdout).toBe('x\n'.repeat(20));
  });

  it('is found once the job has its node, for a file named after it (%N)', async () => {
    const dir = tree.path('named');
    const { run } = setup({
      config: { output_file: join(dir, '%N-%j.out'), error_file: join(dir, '%N-%j.err') },
      files: { stdout: join(dir, 'node7-4242.out'), stderr: join(dir, 'node7-4242.err') },
      slurm: { steps: [PENDING('Priority'), { ...RUNNING, stdout: 'on node7\n' }, COMPLETED] },
    });
    expect((await run()).text.stdout).toBe('on node7\n');
  });
});
