import { apptainerBackend } from './apptainer.js';
import { dockerBackend } from './docker.js';
import { localBackend } from './local.js';
import { slurmBackend } from './slurm.js';
import type { BackendDefinition } from './types.js';

/** Every backend type modelrun knows. A new backend is one line here. */
export const backendRegistry: readonly BackendDefinition[] = [
  localBackend,
  dockerBackend,
  apptainerBackend,
  slurmBackend,
];

export const backendTypes = backendRegistry.map((backend) => backend.type);

export function findBackend(type: string): BackendDefinition | undefined {
  return backendRegistry.find((backend) => backend.type === type);
}
