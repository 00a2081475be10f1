/** The batch script modelrun writes into a run's staging dir and submits with sbatch. */
export const SCRIPT_NAME = 'slurm-job.sh';

/** Where the batch script keeps the command's exit status, in the run's .modelrun folder. */
export const JOB_EXIT_NAME = 'job-exit';

/** The batch script of the job that postprocesses a detached run (`postprocess_on: node`). */
export const POSTPROCESS_SCRIPT_NAME = 'slurm-postprocess.sh';

/**
 * Set by an ensemble's array script in each task: the task's id as modelrun
 * follows it, `<array job id>_<task id>`, which the member's batch script
 * keeps its exit status under, and labels its container with.
 */
export const ARRAY_TASK_ID_VARIABLE = 'MODELRUN_SLURM_TASK';

/** The script of an ensemble's n-th job array, in the ensemble's .modelrun folder. */
export function arrayScriptName(n: number): string {
  return `slurm-array-${n}.sh`;
}

/** Whether a file name is an array's script. */
export const ARRAY_SCRIPT = /^slurm-array-\d+\.sh$/;

/** A job id as sbatch gives it, or an array's task as `<array>_<task>`. */
export const JOB_ID = /^\d{1,12}(?:_\d{1,7})?$/;

/** Why an ensemble's member on Slurm has no output_file or error_file: refused by the ensemble's check and by the array. */
export const MEMBER_LOGS =
  "an ensemble on Slurm writes each member's output into the logs/ folder of its run dir";
