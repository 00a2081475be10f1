import { type Stats, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** `unreachable`: a symlink loop, or a folder on the way that cannot be searched. */
export type PathKind =
  | 'file'
  | 'directory'
  | 'fifo'
  | 'socket'
  | 'character-device'
  | 'block-device'
  | 'other'
  | 'missing'
  | 'unreachable';

/**
 * What a config's path fields need to know about the world: the folder that
 * relative paths are resolved against, and what sits at a path. Passed in so
 * that tests can describe a file tree without touching the disk.
 */
export interface PathContext {
  /** The config file's own folder. */
  baseDir: string;
  home: string;
  kindOf(path: string): PathKind;
}

export function diskPathContext(baseDir: string): PathContext {
  return { baseDir, home: homedir(), kindOf: statKind };
}

export function statKind(path: string): PathKind {
  let stat: Stats | undefined;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    // ELOOP and EACCES are the user's tree, not modelrun's bug.
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'missing' : 'unreachable';
  }
  return stat === undefined ? 'missing' : kindOfStats(stat);
}

/** What an existing path is, from its stat; special files are named, so that an error can say what the path is rather than what it is not. */
export function kindOfStats(stat: Stats): Exclude<PathKind, 'missing' | 'unreachable'> {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character-device';
  if (stat.isBlockDevice()) return 'block-device';
  return 'other';
}

/** Resolves a config path: `~/` is the home folder, relative is against the config's folder. */
export function resolveConfigPath(ctx: PathContext, path: string): string {
  if (path === '~') return ctx.home;
  if (path.startsWith('~/')) return join(ctx.home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(ctx.baseDir, path);
}
