import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { shellWord } from '../exec/shell.js';
import { hiddenCharacters, visibleName } from '../exec/visible-name.js';
import { kernelFilesystemOf } from '../model/staging-place.js';
import type { InitOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { STARTER_FILES, STARTER_FOLDERS, starterText } from './starter-files.js';
import { whyCannotWrite } from './write-output.js';

/**
 * `modelrun init [DIR]`: writes the starter project into DIR. It never
 * replaces anything: every name it would write is checked first, and one
 * that is taken (a file, a folder, a symlink, even a broken one) stops it
 * before it writes a thing. Files are created with O_EXCL, so one that
 * appears meanwhile is not replaced either, and a symlink is never followed.
 * DIR itself may be a symlink to a folder: the user named it.
 */
export async function runInit(
  options: InitOptions,
  { output, cwd }: Pick<CommandContext, 'output' | 'cwd'>,
): Promise<number> {
  checkDirName(options.dir);
  const root = resolve(cwd, options.dir);
  const shown = (name: string) => visibleName(options.dir === '.' ? name : join(options.dir, name));
  await checkDir(root, options.dir);
  const taken = await takenNames(root, shown);
  if (taken.length > 0) throw inTheWay(taken);

  // Read before anything is written: a starter file missing from the package is a bug, not half a project.
  const texts = await Promise.all(
    STARTER_FILES.map((file) => starterText(file, join(root, file.to))),
  );
  const created: string[] = [];
  try {
    created.push(...(await makeFolders(root)));
    for (const folder of STARTER_FOLDERS) {
      const made = await mkdir(join(root, folder)).catch(async (error: NodeJS.ErrnoException) => {
        // A folder of that name was there already, which takenNames allowed.
        if (error.code === 'EEXIST' && (await lstat(join(root, folder))).isDirectory())
          return false;
        throw error;
      });
      if (made !== false) created.push(join(root, folder));
    }
    for (const [index, file] of STARTER_FILES.entries()) {
      const target = join(root, file.to);
      const handle = await open(target, 'wx', 0o644);
      created.push(target);
      try {
        await handle.writeFile(texts[index] as string);
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    await undo(created);
    const code = (error as NodeJS.ErrnoException).code;
    // Something took a name between the check and the write.
    const takenNow = code === 'EEXIST' ? await takenNames(root, shown) : [];
    if (takenNow.length > 0) throw inTheWay(takenNow);
    if (code === undefined) throw error;
    throw new UsageError(
      `cannot write the starter project in ${visibleName(options.dir)}: ${whyCannotWrite(error as NodeJS.ErrnoException)}`,
      { hint: 'run modelrun init in a folder you can write to', cause: error },
    );
  }

  const cd = options.dir === '.' ? '' : `cd ${cdWord(options.dir)} && `;
  if (options.json) {
    const files = STARTER_FILES.map((file) => join(root, file.to));
    output.raw(
      `${JSON.stringify({ dir: root, files, next: `${cd}modelrun run model.yml` }, null, 2)}\n`,
    );
    return 0;
  }
  const where = options.dir === '.' ? 'the current folder' : visibleName(options.dir);
  output.info(
    `wrote a starter project in ${where}: ${STARTER_FILES.map((file) => file.to).join(', ')}`,
  );
  output.info(`next: ${cd}modelrun run model.yml   (README.md says what each file is)`);
  return 0;
}

/**
 * DIR as a word for `cd` in the next-step line: shell-quoted, and with ./
 * before a name that starts with `-`, which cd would take for an option
 * (`cd -` goes back to the previous folder).
 */
export function cdWord(dir: string): string {
  return shellWord(dir.startsWith('-') ? `./${dir}` : dir);
}

/** A name with control characters in it is a slip of the keyboard or a paste, not a project. */
function checkDirName(dir: string): void {
  if (dir === '')
    throw new UsageError('the project folder is empty: it names no folder', {
      hint: 'give a folder, such as: modelrun init my-model (or leave it out for the current folder)',
    });
  // Everywhere else `-` is standard input; a folder of that name is asked for as ./-.
  if (dir === '-')
    throw new UsageError('modelrun init takes a folder, not - (standard input)', {
      hint: 'for a folder named -, write: modelrun init ./-',
    });
  if (hiddenCharacters.test(dir))
    throw new UsageError(
      `the project folder ${visibleName(dir)} has ${/[\p{Cc}\u2028\u2029]/u.test(dir) ? 'control characters' : 'invisible formatting characters (such as a right-to-left override)'} in its name`,
      { hint: 'give a name of printable characters, such as: modelrun init my-model' },
    );
}

/** DIR must be a folder, or not exist yet (then init creates it, with its parents). */
async function checkDir(root: string, dir: string): Promise<void> {
  const found = await stat(root).catch((error: NodeJS.ErrnoException) => error);
  if (!(found instanceof Error)) {
    if (found.isDirectory()) return;
    throw new UsageError(`${visibleName(dir)} is ${kindOf(found)}, not a folder`, {
      hint: 'give the name of a new or empty folder for the project',
    });
  }
  if (found.code === 'ENOENT') return checkMissingDir(root, dir);
  if (found.code === 'ENOTDIR')
    throw new UsageError(`${visibleName(dir)}: a folder on its path is a file`, {
      hint: 'give the name of a new or empty folder for the project',
    });
  throw new UsageError(`cannot use ${visibleName(dir)}: ${whyCannotWrite(found)}`, {
    hint: 'run modelrun init in a folder you can write to',
    cause: found,
  });
}

/** "a file", "a device", …: what a path that is not a folder is. */
function kindOf(info: Stats): string {
  if (info.isFile()) return 'a file';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}

/**
 * DIR does not exist: init will make it and the missing folders above it.
 * That fails where the nearest thing that exists on the way is a symlink to
 * nothing (mkdir would make the folder where it points), or is on a kernel
 * filesystem such as /proc, where no folder can be made.
 */
async function checkMissingDir(root: string, dir: string): Promise<void> {
  for (let path = root; dirname(path) !== path; path = dirname(path)) {
    const link = await lstat(path).catch(() => undefined);
    if (link === undefined) continue;
    const shown = path === root ? visibleName(dir) : visibleName(path);
    if (link.isSymbolicLink() && (await stat(path).catch(() => undefined)) === undefined)
      throw new UsageError(
        `${path === root ? '' : `a folder on the way to ${visibleName(dir)}, `}${shown} is a symlink to nothing (to ${visibleName(await target(path))})`,
        {
          hint: 'give the name of a new or empty folder for the project, or remove the link',
        },
      );
    const kernel = await kernelFilesystemOf(path);
    if (kernel !== undefined)
      throw new UsageError(
        `cannot make ${visibleName(dir)}: ${shown} is on the kernel's ${kernel} filesystem, where no folder can be made`,
        { hint: 'give a folder on a disk for the project, such as: modelrun init my-model' },
      );
    return;
  }
}

/** Each name init would write that something already has, as "proj/model.yml (a symlink to …)". */
async function takenNames(root: string, shown: (name: string) => string): Promise<string[]> {
  const taken: string[] = [];
  for (const name of [...STARTER_FOLDERS, ...STARTER_FILES.map((file) => file.to)]) {
    const path = join(root, name);
    const found = await lstat(path).catch((error: NodeJS.ErrnoException) => error);
    if (found instanceof Error) {
      if (found.code === 'ENOENT' || found.code === 'ENOTDIR') continue;
      throw new UsageError(`cannot check ${shown(name)}: ${whyCannotWrite(found)}`, {
        hint: 'run modelrun init in a folder you can read and write',
        cause: found,
      });
    }
    const isFolder = STARTER_FOLDERS.includes(name);
    if (isFolder && found.isDirectory()) continue;
    taken.push(
      found.isSymbolicLink()
        ? `${shown(name)} (a symlink to ${visibleName(await target(path))})`
        : found.isDirectory()
          ? `${shown(name)} (a folder)`
          : isFolder
            ? `${shown(name)} (a file, where a folder goes)`
            : shown(name),
    );
  }
  return taken;
}

function inTheWay(taken: string[]): UsageError {
  const [first, ...rest] = taken;
  return new UsageError(
    rest.length === 0
      ? `${first} already exists; modelrun init never overwrites a file`
      : `${taken.length} starter files are in the way: ${taken.join(', ')}; modelrun init never overwrites a file`,
    {
      hint: 'give a new or empty folder (modelrun init my-model), or move these out of the way',
    },
  );
}

/**
 * `mkdir -p root`, returning the folders it made, outermost first. Node's
 * recursive mkdir reports ENOENT for a read-only file system, so each
 * missing level is made on its own, and a failure says what it is.
 */
async function makeFolders(root: string): Promise<string[]> {
  const missing: string[] = [];
  for (let path = root; ; path = dirname(path)) {
    const found = await lstat(path).catch((error: NodeJS.ErrnoException) => error);
    if (!(found instanceof Error) || found.code !== 'ENOENT' || dirname(path) === path) break;
    missing.unshift(path);
  }
  const made: string[] = [];
  try {
    for (const path of missing) {
      await mkdir(path);
      made.push(path);
    }
  } catch (error) {
    await undo(made);
    throw error;
  }
  return made;
}

async function target(link: string): Promise<string> {
  return readlink(link).catch(() => '?');
}

/** Removes what init created before it failed, files first, then the folders (only if still empty). */
async function undo(created: string[]): Promise<void> {
  for (const path of [...created].reverse()) {
    const found = await lstat(path).catch(() => undefined);
    if (found?.isDirectory()) await rmdir(path).catch(() => undefined);
    else if (found !== undefined) await rm(path, { force: true }).catch(() => undefined);
  }
}
