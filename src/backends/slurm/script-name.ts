/** The batch script modelrun writes into a run's staging dir and submits with sbatch. */
export const SCRIPT_NAME = 'slurm-job.sh';
