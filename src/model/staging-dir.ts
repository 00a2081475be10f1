import { readdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** modelrun's own folder in a staging dir: the lock, run.json, the history. Its presence marks a folder modelrun staged. */
export const MODELRUN_DIR = '.modelrun';

/** The folder a run is staged in: output_dir/run_id, or output_dir itself. */
export function stagingDirOf(model: {
  output_dir: string;
  run_id: string;
  run_id_subdir: boolean;
}): string {
  return model.run_id_subdir ? join(model.output_dir, model.run_id) : model.output_dir;
}

/**
 * True when `path` is `root` itself or lies under it. Compared by whole path
 * components: a name that merely starts with `..` (`..model.yml`) is inside.
 */
export function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True when `child` lies under `parent` and is not `parent` itself. */
export function isInside(parent: string, child: string): boolean {
  return relative(parent, child) !== '' && within(parent, child);
}

/**
 * Empties a folder, keeping the paths in `keep` (relative, such as
 * `.modelrun`). A symlink inside is removed as a link: what it points to is
 * never touched.
 */
export async function emptyDir(dir: string, keep: string[]): Promise<void> {
  const kept = new Set(keep.map((path) => resolve(dir, path)));
  const sweep = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (kept.has(path)) continue;
      if (entry.isDirectory() && [...kept].some((k) => isInside(path, k))) await sweep(path);
      // rm lstat()s what it removes: a link goes, its target stays.
      else await rm(path, { recursive: true, force: true });
    }
  };
  await sweep(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
