/**
 * The Docker engine's address when neither DOCKER_HOST nor the config names
 * one: the docker backend's, and that of a Slurm job's docker CLI.
 */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** An engine address as a handle in run.json may name one: the forms engineAddress takes, nothing else. */
export function isEngineAddress(value: unknown): value is string {
  return typeof value === 'string' && /^(?:unix|tcp|https?):\/\/\S+$/.test(value);
}
