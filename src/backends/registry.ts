import { apptainerBackend } from './apptainer/index.js';
import type { BackendDefinition } from './contract.js';
import { dockerBackend } from './docker/index.js';
import { localBackend } from './local/index.js';
import { slurmBackend } from './slurm/index.js';

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
