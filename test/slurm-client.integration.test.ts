import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { slurmCliClient } from '../src/backends/slurm/cli-client.js';
import { FINAL_STATES, type JobState } from '../src/backends/slurm/state.js';
import { EngineUnavailableError, RunFailedError } from '../src/errors.js';
import { stringEnv } from '../src/exec/env.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** What every test job asks for (see TEST_JOB); held, it needs no free CPU to be looked at. */
const HELD_JOB = ['--parsable', '--cpus-per-task=1', '--mem=100M', '--time=00:05:00', '--hold'];

/** Looks at the job until Slurm shows its end or forgets it, for at most `ms`. */
async function untilEnded(
  query: (id: string) => Promise<JobState | undefined>,
  id: string,
  ms = 30_000,
): Promise<JobState | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const state = await query(id);
    if (state === undefined || FINAL_STATES.has(state.state) || Date.now() > until) return state;
    await sleep(200);
  }
}

/*
 * The client the runner and the guardian share, against the real cluster:
 * what the unit tests' fake stands for must be what Slurm does.
 */
describe.skipIf(missing !== undefined)('the Slurm client, against a real cluster', () => {
  const client = slurmCliClient(stringEnv(process.env));
  const submitted: string[] = [];
  afterEach(async () => {
    for (const id of submitted.splice(0)) await client.cancel(id);
  });

  const submitHeld = async () => {
    const name = uniqueId('modelrun-client');
    const id = await client.submit([
      ...HELD_JOB,
      `--job-name=${name}`,
      '--output=/dev/null',
      '--wrap=true',
    ]);
    submitted.push(id);
    return id;
  };

  it("submits a job without the run mark of a run whose model called modelrun: the job is not that run's process", async () => {
    const tree = makeTree();
    try {
      const marked = slurmCliClient({
        ...stringEnv(process.env),
        MODELRUN_RUN_MARK: 'outer-run-mark',
      });
      const out = tree.path('env.txt');
      const id = await marked.submit([
        '--parsable',
        '--cpus-per-task=1',
        '--mem=100M',
        '--time=00:05:00',
        `--job-name=${uniqueId('modelrun-client-env')}`,
        `--output=${out}`,
        '--wrap=env',
      ]);
      submitted.push(id);
      expect((await untilEnded(client.query, id))?.state).toBe('COMPLETED');
      const env = readFileSync(out, 'utf8');
      expect(env).toContain('SLURM_JOB_ID=');
      expect(env).not.toContain('MODELRUN_RUN_MARK');
    } finally {
      tree.remove();
    }
  });

  it('finds the controller and sbatch', async () => {
    await expect(client.check()).resolves.toBeUndefined();
  });

  it('submits a job, shows it waiting with its reason, and cancels it', async () => {
    const id = await submitHeld();
    expect(id).toMatch(/^\d+$/);
    expect(await client.query(id)).toMatchObject({ state: 'PENDING', reason: 'JobHeldUser' });
    expect(await client.queued(id)).toBe(true);
    expect(await client.cancel(id)).toEqual({ done: true });
    expect((await untilEnded((job) => client.query(job), id))?.state ?? 'gone').toMatch(
      /^(CANCELLED|gone)$/,
    );
    expect(await client.queued(id)).toBe(false);
  });

  it('cancels a job only while it is PENDING when asked so', async () => {
    const id = await submitHeld();
    expect(await client.cancel(id, { onlyPending: true })).toEqual({ done: true });
    expect((await untilEnded((job) => client.query(job), id))?.state ?? 'gone').toMatch(
      /^(CANCELLED|gone)$/,
    );
  });

  it('takes a job id Slurm does not know as gone', async () => {
    expect(await client.query('999999999')).toBeUndefined();
    expect(await client.queued('999999999')).toBe(false);
    expect(await client.cancel('999999999')).toEqual({ done: true });
  });

  it('rejects, and does not take the job as gone, when the controller gives no answer', async () => {
    const id = await submitHeld();
    // This cluster's settings, with a controller port nothing listens on and short waits.
    const conf = readFileSync(process.env.SLURM_CONF ?? '/etc/slurm/slurm.conf', 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(SlurmctldPort|MessageTimeout|TCPTimeout)\s*=/i.test(line));
    const tree = makeTree();
    try {
      writeFileSync(
        tree.path('slurm.conf'),
        [...conf, 'SlurmctldPort=1', 'MessageTimeout=1', 'TCPTimeout=1', ''].join('\n'),
      );
      const silent = slurmCliClient({
        ...stringEnv(process.env),
        SLURM_CONF: tree.path('slurm.conf'),
      });
      const error = await silent.query(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineUnavailableError);
      expect((error as Error).message).toMatch(/^the Slurm controller is unreachable: .*contact/);
    } finally {
      tree.remove();
    }
    expect(await client.query(id)).toMatchObject({ state: 'PENDING' });
  });

  it("hands back sbatch's refusal with what to check", async () => {
    const error = await client
      .submit([...HELD_JOB, `--partition=${uniqueId('nowhere')}`, '--wrap=true'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).message).toMatch(/^sbatch failed: .*partition/i);
    expect((error as RunFailedError).hint).toMatch(/^check `queue`/);
  });
});
