import type * as z from 'zod';
import { apptainerBackend } from './apptainer/index.js';
import type { BackendDefinition } from './contract.js';
import { dockerBackend } from './docker/index.js';
import { localBackend } from './local/index.js';
import { slurmBackend } from './slurm/index.js';

/** Every backend type modelrun knows. A new backend is one line here. */
const backends = [localBackend, dockerBackend, apptainerBackend, slurmBackend] as const;

/** What the backends' runs hand the guardian: the tasks their definitions can undo. */
export type BackendGuardTask =
  (typeof backends)[number] extends BackendDefinition<infer Task> ? Task : never;

/** A validated config of any registered backend, which narrows by `type`. */
export type RegisteredBackendConfig = z.output<
  ReturnType<(typeof backends)[number]['configSchema']>
>;

export const backendRegistry: readonly BackendDefinition<BackendGuardTask>[] = backends;

export const backendTypes = backendRegistry.map((backend) => backend.type);

export function findBackend(type: string): BackendDefinition<BackendGuardTask> | undefined {
  return backendRegistry.find((backend) => backend.type === type);
}
