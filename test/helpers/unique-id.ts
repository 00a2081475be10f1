import { randomBytes } from 'node:crypto';

/**
 * `prefix` with a random part, for the run ids, job names and container
 * labels a test creates on a shared Docker engine or Slurm cluster: another
 * checkout running the same test at the same time must never see, wait for
 * or clean up what this one made.
 */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
