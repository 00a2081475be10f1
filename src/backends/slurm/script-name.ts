/** The batch script modelrun writes into a run's staging dir and submits with sbatch. */
export const SCRIPT_NAME = 'slurm-job.sh';

/** Where the batch script keeps the command's exit status, in the run's .modelrun folder. */
export const JOB_EXIT_NAME = 'job-exit';

/** The batch script of the job that postprocesses a detached run (`postprocess_on: node`). */
export const POSTPROCESS_SCRIPT_NAME = 'slurm-postprocess.sh';
