import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kindOfStats } from '../config/path-context.js';
import { KIND_NAMES } from '../config/paths.js';
import { UsageError } from '../errors.js';

/**
 * The files `backends create` and `backends schema` write with --output.
 * They only ever write a regular file: a new one, or with --force one that
 * is there already. A symlink is never written through, even with --force,
 * so that modelrun can only change the file the user named; a folder or a
 * device is refused. Missing parent folders are created.
 */
export interface OutputFile {
  /** The absolute path to write. */
  path: string;
  /** The path as the user gave it, for messages. */
  shown: string;
}

/** Refuses a target modelrun must not write; call for every file before writing any. */
export async function checkOutputFile(file: OutputFile, force: boolean): Promise<void> {
  refuseEmptyOutput(file.shown, 'file');
  const found = await lstat(file.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw cannotWrite(file, error);
  });
  if (found === undefined) return;
  if (found.isSymbolicLink()) {
    const to = await readlink(file.path).catch(() => '?');
    throw new UsageError(
      `${file.shown} is a symlink (to ${to}); modelrun does not write through symlinks`,
      {
        hint: 'give the path of the file itself, or another name',
      },
    );
  }
  if (found.isDirectory()) {
    throw new UsageError(`${file.shown} is a folder`, {
      hint: `give a file name, such as ${join(file.shown, 'backend.yml')}`,
    });
  }
  if (!found.isFile()) {
    throw new UsageError(`${file.shown} is ${KIND_NAMES[kindOfStats(found)]}, not a regular file`, {
      hint: 'give the name of a regular file; without --output the text goes to stdout',
    });
  }
  if (!force) {
    throw new UsageError(`${file.shown} already exists`, { hint: 'pass --force to overwrite it' });
  }
}

/**
 * Refuses `--output ''`. An empty path resolves to the current folder: a
 * file there would be refused as " is a folder", and a folder of files
 * would be written into the current one, which the user did not name.
 */
export function refuseEmptyOutput(output: string, names: 'file' | 'folder'): void {
  if (output === '')
    throw new UsageError(`--output is empty: it names no ${names} to write`, {
      hint:
        names === 'file'
          ? 'give the name of the file to write, or leave --output out to print to stdout'
          : 'give the folder to write the files into, such as --output schemas',
    });
}

/**
 * Writes `text` to a temporary file beside the target, then renames it into
 * place: a full disk or a lost permission leaves the old file (or nothing)
 * rather than half of the new one, and rename replaces a name, never
 * following what it points to.
 */
export async function writeOutputFile(
  file: OutputFile,
  text: string,
  force: boolean,
): Promise<void> {
  await checkOutputFile(file, force);
  const folder = dirname(file.path);
  await mkdir(folder, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw cannotWrite(file, error);
  });
  const temp = join(folder, `.${randomBytes(6).toString('hex')}.modelrun-partial`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    // Checked again just before: something may have appeared at the name meanwhile.
    await checkOutputFile(file, force);
    await rename(temp, file.path);
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof UsageError) throw error;
    throw cannotWrite(file, error as NodeJS.ErrnoException);
  }
}

function cannotWrite(file: OutputFile, error: NodeJS.ErrnoException): UsageError {
  return new UsageError(`cannot write ${file.shown}: ${whyCannotWrite(error)}`, {
    hint: 'choose another --output, in a folder you can write to',
    cause: error,
  });
}

const WRITE_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a folder on its path is a file',
  EEXIST: 'a folder on its path is a file',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'its path has a symlink loop',
};

/** Why a file or folder could not be written, in words: "permission denied". */
export function whyCannotWrite(error: NodeJS.ErrnoException): string {
  return WRITE_ERRORS[error.code ?? ''] ?? error.message;
}
