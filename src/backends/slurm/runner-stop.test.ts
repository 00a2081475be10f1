import { afterAll, describe, expect, it } from 'vitest';
import type { FakeSlurm } from '../../../test/helpers/fake-slurm.js';
import {
  COMPLETED,
  PENDING,
  RUNNING,
  type Setup,
  setupSlurmRunner,
  states,
} from '../../../test/helpers/slurm-runner.js';
import { makeTree } from '../../../test/helpers/tree.js';
import { EngineUnavailableError } from '../../errors.js';

const tree = makeTree();
afterAll(() => tree.remove());
const setup = (options?: Setup) => setupSlurmRunner(tree, options);

/** Stops the run at the first look Slurm gives no answer to, as a user would press Ctrl-C then. */
function stopAtNoAnswer(slurm: FakeSlurm, stopper: AbortController): void {
  const query = slurm.query.bind(slurm);
  slurm.query = (id) => {
    const looked = query(id);
    looked.catch(() => stopper.abort());
    return looked;
  };
}

describe('stopping a job', () => {
  it('cancels it and waits until Slurm shows its end', async () => {
    const { run, runner, slurm, statuses, stopper, held } = setup({
      slurm: { steps: [{ ...RUNNING, looks: 100 }], cancel: { looks: 3 } },
    });
    /** Each look after scancel: what it showed, and whether the job was still the run's. */
    const looks: string[] = [];
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      const state = await query(id);
      if (slurm.calls.includes('scancel 4242'))
        looks.push(`${state?.state} ${held().length === 0 ? 'gone' : 'held'}`);
      else if (statuses.some((line) => line.includes('RUNNING'))) stopper.abort();
      return state;
    };
    const { outcome } = await run();
    // Stopped by modelrun: the stop reason says why, so no exit code and no reason here.
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
    // The job is the run's until a look shows its end, three looks after scancel.
    expect(looks.slice(0, 4)).toEqual([
      'RUNNING held',
      'RUNNING held',
      'RUNNING held',
      'CANCELLED held',
    ]);
    expect(held()).toEqual([]);
    await runner.stop();
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual(['scancel 4242']);
    expect(states(statuses).at(-1)).toBe('job 4242 CANCELLED');
  });

  it('records the signal that ended the job when only the stop, not the follower, saw its end', async () => {
    const { run, slurm, stopper, statuses } = setup({
      slurm: { steps: [{ ...RUNNING, looks: 100 }], cancel: { looks: 1 } },
    });
    // Slurm shows the end once, then forgets the job, as a busy cluster may between two looks.
    let shown = false;
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      if (shown) return undefined;
      const state = await query(id);
      if (state?.state === 'CANCELLED') shown = true;
      else if (statuses.some((line) => line.includes('RUNNING'))) stopper.abort();
      return state;
    };
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
  });

  /**
   * A RUNNING job, stopped at a look; after scancel, Slurm shows it CANCELLED
   * with ExitCode 0:0 for three looks, then 0:15 once the node has told it.
   * `onLook` hears each look first, and may make it fail.
   */
  function cancelToldLate(onLook?: (id: string) => void) {
    const made = setup({
      slurm: {
        steps: [{ ...RUNNING, looks: 100 }],
        cancel: {
          shows: [
            { state: { state: 'CANCELLED', exitCode: 0, signal: 0 }, looks: 3 },
            { state: { state: 'CANCELLED', exitCode: 0, signal: 15 } },
          ],
        },
      },
    });
    const query = made.slurm.query.bind(made.slurm);
    made.slurm.query = async (id) => {
      if (made.statuses.some((line) => line.includes('RUNNING'))) made.stopper.abort();
      onLook?.(id);
      return query(id);
    };
    return made;
  }

  // On the old code the first end shown was taken: no signal was recorded.
  it('waits for how the script ended when Slurm shows the cancel before the node reports it', async () => {
    const { outcome } = await cancelToldLate().run();
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
  });

  it('asks again when the controller gives no answer while it waits for how the script ended', async () => {
    // After scancel: the follower's look and the stop's see 0:0; the next look gets no answer.
    let after = 0;
    const made = cancelToldLate((id) => {
      if (made.slurm.calls.includes('scancel 4242') && ++after === 3) {
        made.slurm.calls.push(`query ${id}`);
        throw new Error('Socket timed out on send/recv operation');
      }
    });
    const { outcome } = await made.run();
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
  });

  it('takes a cancelled job whose script caught the signal and exited 0 as ended without one, after a short wait', async () => {
    const { run, slurm, stopper, statuses, clock } = setup({
      slurm: {
        steps: [{ ...RUNNING, looks: 100 }],
        cancel: { shows: [{ state: { state: 'CANCELLED', exitCode: 0, signal: 0 } }] },
      },
    });
    const query = slurm.query.bind(slurm);
    let stoppedAt: number | undefined;
    slurm.query = async (id) => {
      if (stoppedAt === undefined && statuses.some((line) => line.includes('RUNNING'))) {
        stoppedAt = clock.now();
        stopper.abort();
      }
      return query(id);
    };
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: null, signal: null, details: { job_id: '4242' } });
    const waited = clock.now() - (stoppedAt ?? Number.NaN);
    expect(waited).toBeGreaterThanOrEqual(3000);
    expect(waited).toBeLessThan(5000);
  });

  it('does not escalate: a job that stays after scancel is looked at for 45 s, then left as a leftover', async () => {
    const { run, runner, slurm, statuses, stopper, clock, held } = setup({
      slurm: { steps: [RUNNING], cancel: { shows: [RUNNING] } },
    });
    const running = run();
    while (slurm.queries === 0) await clock.sleep(0);
    const stoppedAt = clock.now();
    stopper.abort();
    const { outcome } = await running;
    // The stop and the runner's stop() are one: one scancel, no second wait.
    await runner.stop();
    expect(outcome).toEqual({ exitCode: null, signal: null, details: { job_id: '4242' } });
    expect(held()).toEqual(['slurm job 4242 (scancel 4242)']);
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual(['scancel 4242']);
    // The test clock adds up the sleeps of both loops that look (the cancel's and the follow's).
    expect(clock.now() - stoppedAt).toBeGreaterThanOrEqual(45_000);
    expect(clock.now() - stoppedAt).toBeLessThan(100_000);
    expect(statuses.at(-1)).toBe(
      'job 4242 had not ended 45 s after the stop (still RUNNING); it may still run: see `squeue -j 4242`, cancel it with `scancel 4242`',
    );
  });

  it('a stopped run whose job Slurm gives no answer on asks for 45 s, then leaves the job as a leftover and says how to check it', async () => {
    const { run, runner, slurm, statuses, stopper, held } = setup({
      slurm: { steps: [RUNNING, { state: 'no answer', looks: 10_000 }] },
    });
    stopAtNoAnswer(slurm, stopper);
    const { outcome } = await run();
    await runner.stop();
    expect(outcome).toEqual({ exitCode: null, signal: null, details: { job_id: '4242' } });
    expect(statuses.at(-1)).toBe(
      'job 4242 had not ended 45 s after the stop (Slurm gave no answer: the Slurm controller is unreachable: slurm_load_jobs error: Socket timed out on send/recv operation); it may still run: see `squeue -j 4242`, cancel it with `scancel 4242`',
    );
    // scancel got no answer either: said once, and sent again every 5 s.
    expect(statuses.filter((line) => line.startsWith('scancel 4242 failed'))).toHaveLength(1);
    expect(slurm.calls.filter((call) => call === 'scancel 4242').length).toBeGreaterThanOrEqual(8);
    expect(held()).toEqual(['slurm job 4242 (scancel 4242)']);
  });

  it('sends scancel again once Slurm answers after a stop it did not take, and ends with the job', async () => {
    const { run, slurm, stopper, held } = setup({
      slurm: { steps: [RUNNING, { state: 'no answer', looks: 12 }, { ...RUNNING, looks: 1000 }] },
    });
    stopAtNoAnswer(slurm, stopper);
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
    expect(slurm.calls.filter((call) => call === 'scancel 4242').length).toBeGreaterThanOrEqual(2);
    expect(held()).toEqual([]);
  });

  it('a job submitted while the run was stopped is cancelled at once', async () => {
    const { run, slurm, stopper } = setup({ slurm: { steps: [PENDING('Priority')] } });
    const submit = slurm.submit.bind(slurm);
    slurm.submit = async (args, secrets) => {
      const id = await submit(args, secrets);
      stopper.abort();
      return id;
    };
    const { outcome } = await run();
    expect(slurm.calls.slice(0, 2)).toEqual(['submit', 'scancel 4242']);
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
  });

  it('a run stopped before sbatch submits nothing', async () => {
    const { run, slurm, stopper } = setup();
    stopper.abort();
    expect((await run()).outcome).toEqual({
      exitCode: null,
      signal: null,
      reason: 'stopped before the job was submitted',
    });
    expect(slurm.calls).toEqual([]);
  });

  it('a scancel that cannot run is reported, and the job followed to its end', async () => {
    const { run, slurm, statuses, stopper } = setup({
      slurm: {
        steps: [RUNNING, RUNNING, COMPLETED],
        cancel: {
          error: new EngineUnavailableError(
            'scancel is not on PATH, so Slurm cannot be used from here',
          ),
        },
      },
    });
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      stopper.abort();
      return query(id);
    };
    const { outcome } = await run();
    expect(statuses).toContain(
      'scancel 4242 failed: scancel is not on PATH, so Slurm cannot be used from here',
    );
    expect(outcome).toEqual({ exitCode: null, signal: null, details: { job_id: '4242' } });
  });
});
