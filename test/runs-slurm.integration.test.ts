import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runInProcess, runModelrun, startModelrun } from './helpers/cli.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { guardianOf, waitUntilGone } from './helpers/processes.js';
import { readRunRecord, writeForged } from './helpers/run-record.js';
import { slurmJob, TEST_JOB_YAML } from './helpers/slurm.js';
import { treeForEachTest } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/*
 * A held job stays PENDING (JobHeldUser) whatever the cluster's load, so the
 * tests see a queued job for sure; every job has a random name and asks for
 * one CPU, a little memory and a time limit.
 */
const tree = treeForEachTest({
  'slurm.yml': `type: slurm\n${TEST_JOB_YAML}additional_options: ["--hold"]\n`,
});

/** Waits until the run's record names its job, for at most 30 s. */
async function submittedJob(runId: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const record = readRunRecord(tree.path('simulations', runId)) as
      | { status?: string; handle?: { id?: string } }
      | undefined;
    if (record?.status === 'submitted' && record.handle?.id !== undefined) return record.handle.id;
    await sleep(100);
  }
  throw new Error('the job was never on record as submitted');
}

describe.skipIf(missing !== undefined)(
  'slurm runs looked at and stopped from another shell',
  () => {
    it.each([
      ['by the modelrun that follows it', false],
      ['through its handle once that modelrun was killed', true],
    ])(
      'a PENDING job is shown with its reason and cancelled %s',
      async (_name, killOwner) => {
        const runId = uniqueId('slurm-cancel');
        tree.write('model.yml', `run_id: ${runId}\ncommand: "echo never"\n`);
        const { child, exited } = await startModelrun(
          ['run', 'model.yml', '--backend-config', 'slurm.yml'],
          { cwd: tree.root, waitMs: 0 },
        );
        const jobId = await submittedJob(runId);
        const status = await runInProcess(['status', runId], { cwd: tree.root });
        expect(status.stdout).toMatch(/status +submitted/);
        expect(status.stdout).toContain(`job ${jobId} PENDING (JobHeldUser)`);
        if (killOwner) {
          process.kill(guardianOf(child.pid ?? 0), 'SIGKILL');
          child.kill('SIGKILL');
          await exited;
          expect(await waitUntilGone(child.pid ?? 0)).toBe(true);
        }
        const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
        expect(cancelled.code).toBe(0);
        expect(cancelled.stdout).toContain(
          killOwner ? 'through its handle (slurm-job)' : 'stopped it',
        );
        if (!killOwner) expect(await exited).toBe(1);
        expect(slurmJob(jobId).JobState ?? 'CANCELLED').toBe('CANCELLED');
        expect(readRunRecord(tree.path('simulations', runId))).toMatchObject({
          status: 'cancelled',
        });
      },
      90_000,
    );

    it("cancels no job that does not run the run's batch script, whatever run.json names", async () => {
      const name = uniqueId('not-the-runs');
      const jobId = execFileSync(
        'sbatch',
        [
          '--parsable',
          '--hold',
          `--job-name=${name}`,
          '--cpus-per-task=1',
          '--mem=100M',
          '--time=00:05:00',
          '--output=/dev/null',
          '--wrap',
          'sleep 60',
        ],
        { encoding: 'utf8' },
      ).trim();
      try {
        const runId = uniqueId('forged');
        writeForged(tree.path('simulations', runId), {
          run_id: runId,
          backend: { type: 'slurm', config: { type: 'slurm' } },
          handle: { kind: 'slurm-job', id: jobId },
        });
        const cancelled = await runModelrun(['cancel', runId], { cwd: tree.root });
        expect(cancelled.code).toBe(1);
        expect(cancelled.stderr).toContain(`job ${jobId} does not run`);
        expect(slurmJob(jobId).JobState).toBe('PENDING');
      } finally {
        execFileSync('scancel', [jobId]);
      }
    }, 30_000);
  },
);
