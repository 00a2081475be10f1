import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ConfigError } from '../errors.js';
import { visibleName } from '../exec/visible-name.js';
import { MODELRUN_DIR } from './staging-dir.js';

/**
 * The first file in `stagingDir` that a person put there, or undefined: a
 * folder with no `.modelrun/` was never staged by modelrun, so anything in
 * it, except the run's own source files (`keep`, relative paths), is theirs.
 * The walk stops at the first such file, so a large folder costs little.
 */
export async function firstForeignFile(
  stagingDir: string,
  keep: readonly string[],
): Promise<string | undefined> {
  if ((await lstat(join(stagingDir, MODELRUN_DIR)).catch(() => undefined)) !== undefined)
    return undefined;
  const walk = async (folder: string): Promise<string | undefined> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const rel = relative(stagingDir, path);
      if (keep.includes(rel)) continue;
      const holdsSource = keep.some((k) => k.startsWith(`${rel}${sep}`));
      if (!(entry.isDirectory() && holdsSource)) return path;
      const found = await walk(path);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(stagingDir);
}

/**
 * modelrun never renders over a file it did not write. A staging dir that
 * exists without `.modelrun/` and holds files of someone else's is refused
 * before anything is written; once modelrun has staged a folder, what is in
 * it is the runs'.
 */
export async function assertNoForeignFiles(
  stagingDir: string,
  outputDir: string,
  keep: readonly string[],
  runIdSubdir = true,
): Promise<void> {
  const found = await firstForeignFile(stagingDir, keep);
  if (found === undefined) return;
  throw new ConfigError(
    `cannot stage the run in ${visibleName(stagingDir)} (output_dir ${visibleName(outputDir)}): it already holds ${visibleName(found)}, and modelrun did not stage this folder (it has no ${MODELRUN_DIR}/ folder), so the template could be rendered over your files`,
    // With run_id_subdir: false the run is staged in output_dir itself,
    // whatever its run_id, so only another output_dir helps there.
    {
      hint: runIdSubdir
        ? 'give the run a run_id of its own, or point output_dir at a new or empty folder, such as output_dir: ./simulations; or move your files out of the folder'
        : 'with run_id_subdir: false the run is staged in output_dir itself: point output_dir at a new or empty folder, such as output_dir: ./simulations, or set run_id_subdir: true; or move your files out of the folder',
    },
  );
}
