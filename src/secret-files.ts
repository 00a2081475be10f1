import { join } from 'node:path';

/**
 * The files modelrun writes secret values into, by their path in a staging
 * dir: the env files a container or a Slurm job reads (mode 0600, removed
 * when the run ends, and by the guardian when modelrun dies first). Every
 * writer takes its path from here, and the postprocessors that pack or list
 * a run's files leave these out whatever their globs say, so the rule has
 * one list to follow.
 */
export const SECRET_FILES = {
  /** `apptainer exec --env-file`, here and in a Slurm job's container. */
  apptainer: '.modelrun/apptainer.env',
} as const;

/** The secret files' paths relative to a staging dir, POSIX-style, as globs see them. */
export const SECRET_FILE_PATHS: readonly string[] = Object.values(SECRET_FILES);

/** Where a secret file of `kind` lives in `stagingDir`. */
export function secretFilePath(stagingDir: string, kind: keyof typeof SECRET_FILES): string {
  return join(stagingDir, SECRET_FILES[kind]);
}
