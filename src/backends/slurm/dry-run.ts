import { shellWord } from '../../exec/shell.js';
import type { DryRun, RunJob } from '../contract.js';
import type { SlurmConfig } from './config.js';
import { batchScript, containerCommand, jobCommand, sbatchArgs, scriptPath } from './script.js';

/**
 * What a Slurm run would submit: sbatch's arguments and the batch script,
 * exactly, neither of which holds a secret value (sbatch gets those in its
 * environment, named by --export).
 */
export function slurmDryRun(
  config: SlurmConfig,
  job: RunJob,
  image: string | undefined,
  hostEnv: NodeJS.ProcessEnv,
): DryRun {
  const script = batchScript(
    config,
    job,
    jobCommand(config, job, containerCommand(config, job, image)),
    hostEnv,
  );
  const argv = ['sbatch', ...sbatchArgs(config, job, hostEnv)];
  return {
    lines: [
      ['batch script', scriptPath(job.stagingDir)],
      ['submitted with', argv.map(shellWord).join(' ')],
      ...limitLines(config),
      ['', ''],
      ...script.split('\n').map((line): [string, string] => ['  ', line]),
    ],
    data: {
      backend: 'slurm',
      script_path: scriptPath(job.stagingDir),
      sbatch_argv: argv,
      script,
      timeout_s: config.timeout ?? null,
      queue_timeout_s: config.queue_timeout ?? null,
    },
  };
}

/** modelrun's own limits on the job, each cancelling it with scancel; none when not given. */
function limitLines(config: SlurmConfig): [string, string][] {
  return [
    ...(config.queue_timeout === undefined
      ? []
      : [
          ['queue timeout', `${config.queue_timeout} s PENDING (then scancel)`] as [string, string],
        ]),
    [
      'timeout',
      config.timeout === undefined
        ? 'none (the job ends at its time_limit)'
        : `${config.timeout} s RUNNING (then scancel)`,
    ],
  ];
}
