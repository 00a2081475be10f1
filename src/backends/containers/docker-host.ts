/**
 * The Docker engine's address when neither DOCKER_HOST nor the config names
 * one: the docker backend's, and that of a Slurm job's docker CLI.
 */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
