import { type Dirent, readdir } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type GlobOptions, glob } from 'tinyglobby';

export interface FileSelection {
  /** Globs relative to the staging directory. */
  include: readonly string[];
  exclude: readonly string[];
  /** Relative paths to leave out whatever the globs say, such as a postprocessor's own output. */
  skip?: readonly string[];
}

/** modelrun's lock and run record: never part of the model's outputs. */
export const MODELRUN_FOLDER = '.modelrun';

/**
 * The regular files under `stagingDir` that `include` matches and `exclude`
 * does not, as sorted POSIX paths relative to `stagingDir`.
 *
 * Symlinks are left out altogether, whether they point at a file or a folder
 * and wherever they point: a link could lead out of the staging directory, and
 * a link to a file inside it would only take that file twice. Checking the
 * target instead would race with a model that is still changing its outputs.
 */
export async function selectFiles(stagingDir: string, selection: FileSelection): Promise<string[]> {
  const matches = await glob([...selection.include], {
    cwd: stagingDir,
    ignore: [...selection.exclude, `${MODELRUN_FOLDER}/**`],
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    fs: { readdir: lineSafeReaddir },
  });
  const skip = new Set(selection.skip ?? []);
  const inside = matches.map(unspell).filter(
    // An include such as "../x" or "/etc/*" would reach outside the staging directory.
    (path) => !isAbsolute(path) && !path.split('/').includes('..') && !skip.has(path),
  );
  const regular = await Promise.all(inside.map((path) => isRegularFile(join(stagingDir, path))));
  return inside.filter((_, index) => regular[index]).sort();
}

/*
 * picomatch, which tinyglobby matches with, builds its regexes from `.`, which
 * matches no line terminator: a file named "a\nb" would never be selected,
 * whatever the globs, and would be missing from archives and checksums without
 * a word. So the crawl sees each line terminator in a name spelled as two
 * ordinary characters, and the results are spelled back. The private-use
 * ESCAPE character is itself spelled, so no real name is mistaken for one.
 */
const ESCAPE = '\uE000';
const SPELLINGS: Record<string, string> = {
  [ESCAPE]: '0',
  '\n': 'n',
  '\r': 'r',
  '\u2028': 'l',
  '\u2029': 'p',
};
const UNSPELLINGS = Object.fromEntries(Object.entries(SPELLINGS).map(([c, code]) => [code, c]));

function spell(name: string): string {
  return name.replace(/[\uE000\n\r\u2028\u2029]/g, (c) => `${ESCAPE}${SPELLINGS[c]}`);
}

function unspell(path: string): string {
  return path.replace(/\uE000([0nrlp])/g, (_, code: string) => UNSPELLINGS[code] ?? code);
}

/** fs.readdir(path, { withFileTypes: true }, callback), as the crawler calls it. */
const lineSafeReaddir = ((
  path: string,
  options: { withFileTypes: true },
  callback: (error: NodeJS.ErrnoException | null, entries: Dirent[]) => void,
) =>
  readdir(unspell(path), options, (error, entries) => {
    for (const entry of entries ?? []) entry.name = spell(entry.name);
    callback(error, entries);
  })) as unknown as NonNullable<GlobOptions['fs']>['readdir'];

async function isRegularFile(path: string): Promise<boolean> {
  // lstat, not stat, so that a symlink counts as a symlink rather than as its target.
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isFile() === true;
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
  return files === 1 ? '1 file' : `${files} files`;
}

/** Why an include/exclude pair that matched nothing is worth a look. */
export function noFilesMessage(selection: FileSelection): string {
  const globs = JSON.stringify(selection.include);
  const excluded =
    selection.exclude.length === 0 ? '' : ` minus ${JSON.stringify(selection.exclude)}`;
  return `no files in the run directory match ${globs}${excluded}; check include and exclude, or whether the model wrote its outputs elsewhere`;
}
