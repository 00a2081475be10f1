/** The batch script modelrun writes into a run's staging dir and submits with sbatch. */
export const SCRIPT_NAME = 'slurm-job.sh';

/** Where the batch script keeps the command's exit status, in the run's .modelrun folder. */
export const JOB_EXIT_NAME = 'job-exit';
