import { VERSION } from '../../package-info.js';
import type { RunJob } from '../contract.js';

/**
 * The labels modelrun puts on every container it starts, by whichever
 * engine, so that a sweep can find what a run left behind.
 */
export const LABELS = {
  runId: 'modelrun.run_id',
  stagingDir: 'modelrun.staging_dir',
  version: 'modelrun.version',
  /** Set by the batch script itself, which alone knows the job id; the guardian's sweep looks for it. */
  slurmJobId: 'modelrun.slurm_job_id',
} as const;

/** The labels that tie a container to its run. */
export function runLabels(job: RunJob): Record<string, string> {
  return {
    [LABELS.runId]: job.runId,
    [LABELS.stagingDir]: job.stagingDir,
    [LABELS.version]: VERSION,
  };
}
