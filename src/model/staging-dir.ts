import { readdir, rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.js';

/** The folder a run is staged in: output_dir/run_id, or output_dir itself. */
export function stagingDirOf(model: {
  output_dir: string;
  run_id: string;
  run_id_subdir: boolean;
}): string {
  return model.run_id_subdir ? join(model.output_dir, model.run_id) : model.output_dir;
}

export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..';
}

/**
 * delete_existing empties a folder, so refuse the folders where that would
 * be a disaster: the root, the home folder, the current folder or any folder
 * above it, and anything outside output_dir.
 */
export function assertSafeToEmpty(
  stagingDir: string,
  outputDir: string,
  where: { cwd: string; home: string },
): void {
  const target = resolve(stagingDir);
  const refuse = (why: string) =>
    new ConfigError(`delete_existing refuses to empty ${target}: ${why}`, {
      hint: 'point output_dir at a folder that holds only model runs, or set delete_existing: false',
    });
  if (target === resolve('/')) throw refuse('it is the root folder');
  if (target === resolve(where.home)) throw refuse('it is your home folder');
  const cwd = resolve(where.cwd);
  if (target === cwd || isInside(target, cwd))
    throw refuse('it is the current folder or one of its parents');
  if (target !== resolve(outputDir) && !isInside(resolve(outputDir), target))
    throw refuse(`it is outside output_dir (${outputDir})`);
}

/** Empties a folder, keeping the paths in `keep` (relative, such as the run lock). */
export async function emptyDir(dir: string, keep: string[]): Promise<void> {
  const kept = new Set(keep.map((path) => resolve(dir, path)));
  const sweep = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (kept.has(path)) continue;
      if (entry.isDirectory() && [...kept].some((k) => isInside(path, k))) await sweep(path);
      else await rm(path, { recursive: true, force: true });
    }
  };
  await sweep(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
