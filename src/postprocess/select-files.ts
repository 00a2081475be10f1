import { type Dirent, readdir, type Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';
import { count } from '../plural.js';
import { SECRET_FILE_PATHS } from '../secret-files.js';
import { MODELRUN_FOLDER } from './common.js';
import { type CrawledEntry, type CrawlerReaddir, crawlerFs } from './crawler-fs.js';
import { describeLeftOut, type LeftOut, leftOutBecause } from './left-out.js';
import { fsPath, spellName, unspell } from './name-spelling.js';

export interface FileSelection {
  /** Globs relative to the staging directory. */
  include: readonly string[];
  exclude: readonly string[];
  /** Relative paths to leave out whatever the globs say, such as a postprocessor's own output. */
  skip?: readonly string[];
}

/** A regular file or a symlink that the globs chose, as lstat saw it when chosen. */
export interface SelectedEntry {
  /** POSIX path relative to the staging directory. */
  path: string;
  stats: Stats;
  /** A symlink's target exactly as written in the link; never followed. */
  target?: string;
}

export interface Selection {
  entries: SelectedEntry[];
  /** What the globs matched but cannot be taken, each with why; sorted by path. */
  leftOut: LeftOut[];
}

export type { LeftOut };
export { describeLeftOut, MODELRUN_FOLDER };

/**
 * What under `stagingDir` the globs select: regular files and symlinks (each
 * caller decides what to do with a link; none is ever followed), and what
 * else they matched and why it cannot be taken: a FIFO or device, a name that
 * is not UTF-8, a folder that cannot be read. Nothing is left out in silence.
 *
 * A symlink is never followed, whether it points at a file or a folder and
 * wherever it points: a link could lead out of the staging directory, and a
 * link to a file inside it would only take that file twice. Checking the
 * target instead would race with a model that is still changing its outputs.
 */
export async function selectEntries(
  stagingDir: string,
  selection: FileSelection,
): Promise<Selection> {
  const leftOut: LeftOut[] = [];
  const matches = await glob([...selection.include], {
    cwd: stagingDir,
    // The secret files are under .modelrun/ too; named on their own, so
    // that they stay out should the folder's rule ever change.
    ignore: [...selection.exclude, MODELRUN_FOLDER, `${MODELRUN_FOLDER}/**`, ...SECRET_FILE_PATHS],
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    fs: crawlerFs(
      crawlerReaddir(stagingDir, (folder, error) => leftOut.push(unreadable(folder, error))),
    ),
  });
  const skip = new Set(selection.skip ?? []);
  const inside = matches.filter(
    // An include such as "../x" or "/etc/*" would reach outside the staging directory.
    (path) =>
      !isAbsolute(path) && !path.split('/').includes('..') && !skip.has(unspell(path) as string),
  );
  leftOut.push(...(await secretFilesChosen(stagingDir, selection)));
  const entries: SelectedEntry[] = [];
  for (const spelled of inside.sort()) {
    const found = await examine(stagingDir, spelled);
    if ('reason' in found) leftOut.push(found);
    else entries.push(found);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  leftOut.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, leftOut };
}

/** The regular files the globs select, as sorted relative paths; for a count. */
export async function selectFiles(stagingDir: string, selection: FileSelection): Promise<string[]> {
  const { entries } = await selectEntries(stagingDir, selection);
  return entries.filter((entry) => entry.stats.isFile()).map((entry) => entry.path);
}

async function examine(stagingDir: string, spelled: string): Promise<SelectedEntry | LeftOut> {
  const path = unspell(spelled);
  if (typeof path !== 'string') return leftOutBecause(path, 'name is not UTF-8');
  // lstat, not stat, so that a symlink counts as a symlink rather than as its target.
  const stats = await lstat(fsPath(stagingDir, path)).catch(
    (error: NodeJS.ErrnoException) => error,
  );
  if (stats instanceof Error)
    return leftOutBecause(path, `cannot read it: ${stats.code ?? stats.message}`);
  if (stats.isFile()) return { path, stats };
  if (!stats.isSymbolicLink()) return leftOutBecause(path, `${kindOf(stats)}, not a regular file`);
  const target = await readlink(fsPath(stagingDir, path), { encoding: 'buffer' }).catch(
    (error: NodeJS.ErrnoException) => error,
  );
  if (target instanceof Error)
    return leftOutBecause(path, `cannot read the symlink: ${target.code ?? target.message}`);
  const text = target.toString('utf8');
  if (!Buffer.from(text).equals(target))
    return leftOutBecause(path, 'symlink whose target is not UTF-8');
  return { path, stats, target: text };
}

/**
 * The secret files present in the staging dir that the globs would have
 * chosen (`include: [".modelrun/**"]`), each with why it was not taken:
 * the user asked for them, so the summary says where they went. Matched by
 * the same globs over a listing that holds only those files.
 */
async function secretFilesChosen(stagingDir: string, selection: FileSelection): Promise<LeftOut[]> {
  const present: string[] = [];
  for (const path of SECRET_FILE_PATHS) {
    if (
      await lstat(fsPath(stagingDir, path)).then(
        () => true,
        () => false,
      )
    )
      present.push(path);
  }
  if (present.length === 0) return [];
  const chosen = await glob([...selection.include], {
    cwd: stagingDir,
    ignore: [...selection.exclude],
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    fs: crawlerFs(listingOf(stagingDir, present)),
  });
  return chosen
    .filter((path) => present.includes(path))
    .sort()
    .map((path) => leftOutBecause(path, 'holds secret values; never archived or checksummed'));
}

/** fs.readdir for the crawler over a tree that holds only `files` (relative paths) under `root`. */
function listingOf(root: string, files: readonly string[]): CrawlerReaddir {
  return (path, _options, callback) => {
    const below = relativeTo(root, path) ?? '';
    const prefix = below === '' ? '' : `${below}/`;
    const names = new Map<string, boolean>();
    for (const file of files) {
      if (!file.startsWith(prefix)) continue;
      const [name = '', ...rest] = file.slice(prefix.length).split('/');
      names.set(name, rest.length > 0);
    }
    callback(
      null,
      [...names].map(([name, folder]) => ({
        name,
        isDirectory: () => folder,
        isFile: () => !folder,
        isSymbolicLink: () => false,
      })),
    );
  };
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'a special file';
}

function unreadable(folder: string | Buffer, error: NodeJS.ErrnoException): LeftOut {
  return leftOutBecause(folder, `folder cannot be read: ${error.code ?? error.message}`);
}

/**
 * fs.readdir(path, { withFileTypes: true }, callback), as the crawler calls it.
 *
 * The crawler drops every entry that is not a file, folder or followable link,
 * and treats a folder it cannot read as empty: both without a word. So each
 * entry that is not a folder is shown to it as a file, and is sorted out by
 * lstat once the globs have matched it; a folder that fails is reported.
 * Names are read as bytes and spelled (name-spelling.ts), so that a name with
 * a line terminator or one that is not UTF-8 still reaches the globs.
 */
function crawlerReaddir(
  root: string,
  onError: (folder: string | Buffer, error: NodeJS.ErrnoException) => void,
): CrawlerReaddir {
  return (path, _options, callback) => {
    // The crawler's paths are absolute: only the part below the root is spelled.
    const below = relativeTo(root, path);
    const real = below === undefined ? path : fsPath(root, unspell(below));
    readdir(real, { withFileTypes: true, encoding: 'buffer' }, (error, entries) => {
      if (error) {
        onError(below === undefined || below === '' ? '.' : unspell(below), error);
        callback(null, []);
        return;
      }
      callback(
        null,
        entries.map((entry) => asCrawled(entry)),
      );
    });
  };
}

/** `path` below `root` without slashes at either end, or undefined when it is not below it. */
function relativeTo(root: string, path: string): string | undefined {
  const base = root.replace(/\/+$/, '');
  if (path !== base && !path.startsWith(`${base}/`)) return undefined;
  return path.slice(base.length).replace(/^\/+|\/+$/g, '');
}

function asCrawled(entry: Dirent<Buffer>): CrawledEntry {
  const folder = entry.isDirectory();
  return {
    name: spellName(entry.name),
    isDirectory: () => folder,
    isFile: () => !folder,
    isSymbolicLink: () => false,
  };
}

/** Why the staging directory cannot be read, or undefined when it can. */
export async function stagingDirProblem(stagingDir: string): Promise<string | undefined> {
  const stats = await stat(stagingDir).catch((error: NodeJS.ErrnoException) => error);
  if (stats instanceof Error) {
    return stats.code === 'ENOENT'
      ? `the run directory ${stagingDir} does not exist; check that the model ran and that the run was not cleaned up`
      : `cannot read the run directory ${stagingDir}: ${stats.message}`;
  }
  return stats.isDirectory()
    ? undefined
    : `the run directory ${stagingDir} is not a directory; check that the model did not replace it`;
}

/** "1 file", "12 files": for summaries. */
export function describeCount(files: number): string {
  return count(files, 'file');
}

/** Why an include/exclude pair that matched nothing is worth a look. */
export function noFilesMessage(selection: FileSelection, leftOut: readonly LeftOut[] = []): string {
  const globs = JSON.stringify(selection.include);
  const excluded =
    selection.exclude.length === 0 ? '' : ` minus ${JSON.stringify(selection.exclude)}`;
  const only = leftOut.length === 0 ? '' : ` that can be taken (${describeLeftOut(leftOut)})`;
  return `no files in the run directory match ${globs}${excluded}${only}; check include and exclude, or whether the model wrote its outputs elsewhere`;
}
