import { apptainerSettings } from '../containers/apptainer-settings.js';
import { apptainerExecDryRun } from '../containers/dry-run.js';
import type { DryRun, RunJob } from '../contract.js';
import type { ApptainerConfig } from './config.js';

/** What an Apptainer run would execute: the full argv, and the env file's contents, secrets masked. */
export function apptainerDryRun(config: ApptainerConfig, job: RunJob, image: string): DryRun {
  return apptainerExecDryRun(apptainerSettings(config, job, image), config.timeout);
}
