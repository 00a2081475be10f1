import { join } from 'node:path';
import { shellQuote } from '../../exec/shell.js';
import { VERSION } from '../../package-info.js';
import { type DetachedPostprocess, POSTPROCESS_JOB_VARIABLE, type RunJob } from '../contract.js';
import type { SlurmConfig } from './config.js';
import { directiveLines, jobName } from './script.js';
import { POSTPROCESS_SCRIPT_NAME } from './script-name.js';

/**
 * `postprocess_on: node`: the postprocessors of a detached run run in a job
 * of their own, which Slurm starts on a compute node once the run's job has
 * succeeded, and cancels when it cannot (--kill-on-invalid-dep). The job
 * runs `modelrun wait` on the run, which sees that it is that job, and
 * postprocesses as a wait on the login node would.
 */
export function postprocessScriptPath(stagingDir: string): string {
  return join(stagingDir, POSTPROCESS_SCRIPT_NAME);
}

/** sbatch's arguments for the postprocess job of the run's job `runJob`. */
export function postprocessSbatchArgs(stagingDir: string, runJob: string): string[] {
  return [
    '--parsable',
    // The job is a `modelrun wait` of yours: it needs your environment (HOME,
    // XDG_STATE_HOME, PATH), also where SBATCH_EXPORT=NONE is the site's default.
    '--export=ALL',
    `--dependency=afterok:${runJob}`,
    '--kill-on-invalid-dep=yes',
    postprocessScriptPath(stagingDir),
  ];
}

/**
 * The postprocess job's script: one task on one node, with the run's
 * cpus_per_task, memory, time limit, queue, account, qos and reservation,
 * running `command` (a `modelrun wait` of the run) in the staging dir,
 * its output going to `log`.
 */
export function postprocessScript(
  config: SlurmConfig,
  job: RunJob,
  { command, log }: DetachedPostprocess,
): string {
  const staging = 'the staging directory';
  return [
    '#!/bin/bash',
    `# Written by modelrun ${VERSION} for run ${job.runId}: postprocesses it once its job has succeeded.`,
    ...directiveLines([
      ['job-name', `${jobName(config, job)}-postprocess`, 'job_name'],
      ['output', log, 'the postprocess log'],
      ['chdir', job.stagingDir, staging],
      ['partition', config.queue, 'queue'],
      ['nodes', 1, 'nodes'],
      ['ntasks', 1, 'ntasks'],
      ['cpus-per-task', config.cpus_per_task, 'cpus_per_task'],
      ['mem', config.mem, 'mem'],
      ['mem-per-cpu', config.mem_per_cpu, 'mem_per_cpu'],
      ['time', config.time_limit, 'time_limit'],
      ['account', config.account, 'account'],
      ['qos', config.qos, 'qos'],
      ['reservation', config.reservation, 'reservation'],
    ]),
    '',
    `# ${POSTPROCESS_JOB_VARIABLE} tells modelrun wait that it is this job, which is to postprocess the run.`,
    `export ${POSTPROCESS_JOB_VARIABLE}="$SLURM_JOB_ID"`,
    `exec ${command.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}
