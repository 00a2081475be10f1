import { lstat, mkdir, readlink, realpath, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import { ConfigError, type KnownError, RunFailedError } from '../errors.js';
import { notAFolder } from './bookkeeping.js';
import { isInside, MODELRUN_DIR, within } from './staging-dir.js';

/**
 * The real path of `path`, through every symlink, when only a leading part of
 * it exists yet: the real path of the nearest existing folder above it, with
 * the rest joined on.
 */
export async function realPathOf(path: string): Promise<string> {
  let existing = path;
  const rest: string[] = [];
  for (;;) {
    const real = await realpath(existing).catch(() => undefined);
    if (real !== undefined) return join(real, ...rest.reverse());
    const parent = dirname(existing);
    if (parent === existing) return path;
    rest.push(basename(existing));
    existing = parent;
  }
}

// statfs(2) magic numbers of the kernel's own filesystems. A folder cannot
// be made in them, and on /proc Node's recursive mkdir loops forever on the
// ENOENT it gets back (it retries the parent, which exists).
const PSEUDO_FILESYSTEMS: Record<number, string> = {
  40864: 'proc',
  1650812274: 'sysfs',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  3405662737: 'bpf',
  1650812272: 'configfs',
  3730735588: 'efivarfs',
  1634035564: 'pstore',
};

/** The name of the kernel filesystem `path` is on (proc, sysfs, …), where no folder can be made; undefined for a disk. */
export async function kernelFilesystemOf(path: string): Promise<string | undefined> {
  const fs = await statfs(path).catch(() => undefined);
  return fs === undefined ? undefined : PSEUDO_FILESYSTEMS[fs.type];
}

const NAME_MAX = 255;
const PATH_MAX = 4095;

function placeError(stagingDir: string, outputDir: string, why: string, hint: string): ConfigError {
  return new ConfigError(
    `cannot stage the run in ${stagingDir} (output_dir ${outputDir}): ${why}`,
    {
      hint,
    },
  );
}

/**
 * Checks, without changing anything, that a run can be staged in
 * `stagingDir`: not the root, the home folder or a folder above it (an
 * archive of it would pack ~/.ssh), not on a kernel filesystem, not through
 * a file or a symlink that leads nowhere, not a path too long for the
 * system, and with a `.modelrun` that is a real folder if it is there.
 */
export async function assertStagingPlace(
  stagingDir: string,
  outputDir: string,
  home: string,
): Promise<void> {
  const refuse = (why: string, hint: string) => placeError(stagingDir, outputDir, why, hint);
  const longest = Math.max(...stagingDir.split(sep).map((part) => Buffer.byteLength(part)));
  if (longest > NAME_MAX || Buffer.byteLength(stagingDir) > PATH_MAX)
    throw refuse(
      longest > NAME_MAX
        ? `a folder name in it is longer than ${NAME_MAX} bytes`
        : `the path is longer than ${PATH_MAX} bytes`,
      'choose a shorter output_dir or run_id',
    );
  await assertNoDanglingLink(stagingDir, refuse);
  const real = await realPathOf(stagingDir);
  assertNotKernelPath(resolve(stagingDir), real, refuse);
  assertNotBookkeeping(resolve(stagingDir), real, refuse);
  const realHome = await realPathOf(home);
  if (real === parse(real).root || real === realHome || isInside(real, realHome))
    throw refuse(
      real === realHome
        ? 'it is your home folder'
        : `it holds your home folder ${realHome}, whose files a run would mix with its own`,
      'point output_dir at a folder of its own, such as output_dir: ./simulations',
    );
  await assertFolderPath(real, refuse);
  await assertOwnFolder(stagingDir);
}

/**
 * /proc and /sys hold no runs. A path under them is refused as written too,
 * not only by where it leads: /proc/self/cwd leads to modelrun's own folder
 * here, and to another one in the Docker daemon or on a Slurm node.
 */
function assertNotKernelPath(
  written: string,
  real: string,
  refuse: (why: string, hint: string) => ConfigError,
): void {
  for (const root of ['/proc', '/sys'])
    for (const path of [written, real])
      if (within(root, path))
        throw refuse(
          `it is under ${root}, the kernel's ${root === '/proc' ? 'proc' : 'sysfs'} filesystem, which holds no model runs${path === real && path !== written ? ` (${written} leads there)` : ''}`,
          'point output_dir at a folder on a disk, such as output_dir: ./simulations',
        );
}

/** True when a component of `path` is `.modelrun`, in any case (a case-insensitive disk folds them). */
export function inBookkeeping(path: string): boolean {
  return path.split(sep).some((part) => part.toLowerCase() === MODELRUN_DIR);
}

/**
 * A run staged at or inside another run's `.modelrun/` would make a
 * `.modelrun/` of its own there, which the deletion rule takes for a staged
 * folder: delete_existing would then empty the other run's record and
 * history. Checked as written and by real path.
 */
function assertNotBookkeeping(
  written: string,
  real: string,
  refuse: (why: string, hint: string) => ConfigError,
): void {
  if (!inBookkeeping(written) && !inBookkeeping(real)) return;
  throw refuse(
    `it is in a ${MODELRUN_DIR} folder${real === written ? '' : ` (by its real path ${real})`}, where a run keeps its record, lock and history; no run is staged there`,
    'point output_dir at a folder of its own, such as output_dir: ./simulations, and give the run a run_id other than .modelrun',
  );
}

/**
 * A symlink on the way to the staging dir whose target does not exist:
 * realPathOf() would step over it and mkdir would fail on it, so it is named
 * here, with where it points.
 */
async function assertNoDanglingLink(
  stagingDir: string,
  refuse: (why: string, hint: string) => ConfigError,
): Promise<void> {
  for (let path = stagingDir; dirname(path) !== path; path = dirname(path)) {
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) continue;
    if (!info.isSymbolicLink()) return;
    const problem = await stat(path).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code,
    );
    if (problem === undefined) return;
    const target = await readlink(path).catch(() => '?');
    throw refuse(
      problem === 'ELOOP'
        ? `${path} is a symlink in a loop of symlinks`
        : `${path} is a symlink to ${target}, which does not exist`,
      `create the folder it points to, or remove the symlink ${path} and point output_dir at a folder`,
    );
  }
}

/**
 * modelrun writes the run's record, lock, history and env files into
 * `.modelrun/`: one that is a symlink (or anything but a folder) would have
 * them written wherever it points, so it is refused before anything is.
 */
export async function assertOwnFolder(stagingDir: string): Promise<void> {
  const path = join(stagingDir, MODELRUN_DIR);
  const what = await notAFolder(path);
  if (what === undefined) return;
  throw new ConfigError(
    `${path} is ${what}, not a folder: modelrun keeps the run's record, lock and history there, and never writes through a link`,
    {
      hint: `remove ${path} (rm ${JSON.stringify(path)}); modelrun makes the folder itself`,
    },
  );
}

/** Every part of the path that exists must be a folder, on a filesystem that can hold one. */
async function assertFolderPath(
  real: string,
  refuse: (why: string, hint: string) => ConfigError,
): Promise<void> {
  let nearest = real;
  for (;;) {
    const info = await stat(nearest).catch(() => undefined);
    if (info !== undefined) {
      if (!info.isDirectory())
        throw refuse(
          `${nearest} is ${info.isFile() ? 'a file' : 'a special file'}, not a folder`,
          'point output_dir at a folder, or at a path that does not exist yet',
        );
      break;
    }
    const parent = dirname(nearest);
    if (parent === nearest) return;
    nearest = parent;
  }
  const kind = await kernelFilesystemOf(nearest);
  if (kind !== undefined)
    throw refuse(
      `${nearest} is on the kernel's ${kind} filesystem, which holds no model runs`,
      'point output_dir at a folder on a disk, such as output_dir: ./simulations',
    );
}

/**
 * Makes the staging folder one level at a time. Node's recursive mkdir
 * loops forever when a level cannot be made and the one above exists.
 */
export async function makeStagingDir(stagingDir: string): Promise<void> {
  const missing: string[] = [];
  let dir = stagingDir;
  while ((await lstat(dir).catch(() => undefined)) === undefined) {
    const parent = dirname(dir);
    if (parent === dir) break;
    missing.push(dir);
    dir = parent;
  }
  for (const level of missing.reverse())
    await mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
}

const FS_PROBLEMS: Record<string, { why: string; hint: string; config: boolean }> = {
  EACCES: {
    why: 'permission denied',
    hint: 'choose an output_dir you can write to, or ask for write access to it',
    config: true,
  },
  EPERM: {
    why: 'operation not permitted',
    hint: 'choose an output_dir you can write to, or ask for write access to it',
    config: true,
  },
  EROFS: {
    why: 'it is on a read-only filesystem',
    hint: 'point output_dir at a writable folder',
    config: true,
  },
  ENOTDIR: {
    why: 'part of the path is a file, not a folder',
    hint: 'point output_dir at a folder',
    config: true,
  },
  ENAMETOOLONG: {
    why: 'the path is too long',
    hint: 'choose a shorter output_dir or run_id',
    config: true,
  },
  ELOOP: {
    why: 'its path has a loop of symlinks',
    hint: 'fix the symlinks on the way to output_dir',
    config: true,
  },
  ENOSPC: {
    why: 'no space left on the device',
    hint: 'free some space there, or point output_dir at a disk with room',
    config: false,
  },
  EDQUOT: {
    why: 'your disk quota is used up',
    hint: 'free some space there, or point output_dir at a disk with room',
    config: false,
  },
};

/**
 * The error to show for a failed file operation in the staging folder, or
 * undefined when it is not one a person can fix from output_dir (a bug).
 * A place that cannot be written to is a config mistake (exit 2); a disk
 * that fills up during the run is a failed run (exit 1).
 */
export function stagingFsError(
  error: unknown,
  stagingDir: string,
  outputDir: string,
  doing = 'write to',
): KnownError | undefined {
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  const problem = code === undefined ? undefined : FS_PROBLEMS[code];
  // A program that cannot be started is the backend's to report, not the folder's.
  if (problem === undefined || syscall?.startsWith('spawn')) return undefined;
  // Only errors about the staging folder, or a folder on the way to it.
  if (
    path !== undefined &&
    path !== stagingDir &&
    !isInside(stagingDir, path) &&
    !isInside(path, stagingDir)
  )
    return undefined;
  const where = path === undefined || path === stagingDir ? stagingDir : path;
  const message = `cannot ${doing} ${where} (output_dir ${outputDir}): ${problem.why}`;
  return problem.config
    ? new ConfigError(message, { hint: problem.hint, cause: error })
    : new RunFailedError(message, { hint: problem.hint, cause: error });
}
