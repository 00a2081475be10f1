import { ConfigError, RunFailedError } from '../errors.js';

/** Errno codes that mean the disk, not the user's files, stopped staging. */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO']);

/**
 * Turns a file system error met while staging into an error for a person,
 * naming what was being read or written. An error without an errno code is
 * not a file system error, and is passed on as it is (a bug).
 */
export function templateFsError(error: unknown, what: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) return error;
  if (DISK_CODES.has(code)) {
    return new RunFailedError(`${what}: ${reason(code, error)}`, {
      hint: 'free some space on the staging disk, or point output_dir elsewhere',
      cause: error,
    });
  }
  return new ConfigError(`${what}: ${reason(code, error)}`, {
    hint: HINTS[code] ?? 'check the template folder and the staging directory, then try again',
    cause: error,
  });
}

function reason(code: string, error: unknown): string {
  return REASONS[code] ?? `${code} (${(error as Error).message})`;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'it does not exist (was it moved or deleted while staging?)',
  ENOTDIR: 'a part of its path is not a folder',
  ENAMETOOLONG: 'its name is too long for the file system',
  ELOOP: 'it is a symlink, or its path holds too many symlinks',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EIO: 'the disk reported an input/output error',
};

const HINTS: Record<string, string> = {
  EACCES:
    'give the user running modelrun read access to the template and write access to output_dir (chmod, or run as its owner)',
  EPERM:
    'give the user running modelrun read access to the template and write access to output_dir (chmod, or run as its owner)',
  ENOENT: 'make sure nothing moves or deletes the template folder while modelrun stages it',
  ENAMETOOLONG: 'shorten the name, or the value its name renders from',
  EROFS: 'point output_dir at a writable file system',
};
