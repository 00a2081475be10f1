import { MARK_VARIABLE } from '../../exec/escaped-processes.js';
import { parseArrayScontrol } from './array-state.js';
import { slurmCommand, slurmFailure } from './cli.js';
import type { CancelAnswer, CancelOptions, SlurmClient } from './client.js';
import { checkSlurm } from './probe.js';
import { type JobState, parseSacct, parseScontrol } from './state.js';

/** What scontrol says of a job id it does not know, or no longer knows. */
const UNKNOWN_JOB = /Invalid job id specified/i;

/** The Slurm client of the cluster this host submits to, through its commands (sbatch, scontrol…). */
export function slurmCliClient(env: Record<string, string>): SlurmClient {
  return {
    check: () => checkSlurm(env),

    async submit(args, secrets = {}, watch) {
      // sbatch hands its environment to the job (--export=ALL): a modelrun run by a model keeps
      // that run's mark, which would have the outer run stop the job as one of its own escaped processes.
      const { [MARK_VARIABLE]: _outerMark, ...own } = env;
      const submitted = await slurmCommand(
        'sbatch',
        args,
        { ...own, ...secrets },
        undefined,
        watch?.started,
      );
      if (submitted.code !== 0) throw slurmFailure('sbatch', submitted);
      // --parsable prints "id" or "id;cluster".
      return submitted.stdout.trim().split(';')[0] ?? '';
    },

    query: (jobId) => readJobState(jobId, env),

    async cancel(jobId, options: CancelOptions = {}): Promise<CancelAnswer> {
      const ids = typeof jobId === 'string' ? [jobId] : [...jobId];
      const args = options.onlyPending === true ? ['--state=PENDING', ...ids] : ids;
      const result = await slurmCommand('scancel', args, env);
      if (result.code === 0 || /Invalid job id/i.test(result.stderr)) return { done: true };
      return { done: false, said: result.stderr.trim() || `scancel exited ${result.code}` };
    },

    async queued(jobId) {
      const result = await slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T'], env);
      return result.code === 0 && result.stdout.trim() !== '';
    },

    async showArray(arrayJobId) {
      const shown = await slurmCommand('scontrol', ['show', 'job', '-o', arrayJobId], env);
      if (shown.code === 0) return parseArrayScontrol(shown.stdout);
      if (UNKNOWN_JOB.test(shown.stderr)) return undefined;
      throw slurmFailure('scontrol', shown);
    },

    async cluster() {
      const result = await slurmCommand('scontrol', ['show', 'config'], env);
      if (result.code !== 0) return undefined;
      return /^ClusterName\s*=\s*(\S+)\s*$/m.exec(result.stdout)?.[1];
    },
  };
}

/**
 * The job's state from scontrol, which needs no accounting database; once
 * the job has left scontrol's memory, from sacct where accounting exists.
 * Undefined when neither knows the job. Rejects when scontrol got no answer
 * (the controller is down, restarting or busy): that says nothing of the job.
 */
async function readJobState(
  jobId: string,
  env: Record<string, string>,
): Promise<JobState | undefined> {
  const shown = await slurmCommand('scontrol', ['show', 'job', '-o', jobId], env);
  if (shown.code === 0) {
    const state = parseScontrol(shown.stdout);
    if (state !== undefined) return state;
  } else if (!UNKNOWN_JOB.test(shown.stderr)) {
    throw slurmFailure('scontrol', shown);
  }
  const sacct = await slurmCommand(
    'sacct',
    ['-j', jobId, '-n', '-P', '-X', '-o', 'State,ExitCode,Reason'],
    env,
  ).catch(() => undefined);
  return sacct === undefined || sacct.code !== 0 ? undefined : parseSacct(sacct.stdout);
}
