import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readlink, realpath, rename, rm, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError } from '../errors.js';
import { templateFsError } from './template-fs-error.js';

const REMOVE_HINT = 'set delete_existing: true to empty the staging directory before staging';

/**
 * Writes template entries into the staging directory without ever following
 * a symlink that is already there, or writing into a file another name
 * shares (a hard link): every file is written to a new temporary file beside
 * its target and renamed over it, and rename replaces a link or a directory
 * entry instead of writing through it. The folders on the way are checked
 * one at a time, so a symlinked folder is refused wherever it sits.
 *
 * A process that rewrites the staging directory while modelrun stages it can
 * still swap a checked folder for a link; the staging lock keeps modelrun's
 * own runs apart, and nothing else should write there.
 */
export class StagingWriter {
  private constructor(
    readonly root: string,
    private readonly keep: ReadonlySet<string>,
  ) {}

  /**
   * Creates the staging directory if needed; a link to it is fine, so its
   * real path is the root. `keep` names files, relative to the root, that no
   * template entry may replace: the model file and configs the run was made
   * from, when they lie in the staging dir.
   */
  static async open(stagingDir: string, keep: string[] = []): Promise<StagingWriter> {
    try {
      await mkdir(stagingDir, { recursive: true });
      return new StagingWriter(await realpath(stagingDir), new Set(keep));
    } catch (error) {
      throw templateFsError(error, `the staging directory ${stagingDir}`);
    }
  }

  /** Makes the folder `name` in `dir` (a folder this writer made or checked) for template folder `entry`. */
  async folder(dir: string, name: string, entry: string): Promise<string> {
    const path = join(dir, name);
    for (let attempt = 0; ; attempt++) {
      const found = await this.look(path, entry);
      if (found?.isDirectory()) return path;
      if (found !== undefined) throw this.inTheWay(path, found, `template folder ${entry}`);
      try {
        await mkdir(path);
        return path;
      } catch (error) {
        // Made by someone else meanwhile: look again, once.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0)
          throw templateFsError(error, `template folder ${entry}: creating ${path}`);
      }
    }
  }

  /**
   * Puts a file at `name` in `dir` for template file `entry`: `create` writes
   * it to the temporary path it is given, which does not exist yet; it then
   * gets `mode` (permission bits only) and replaces what was at the target.
   */
  async file(
    dir: string,
    name: string,
    entry: string,
    mode: number,
    create: (temp: string) => Promise<void>,
  ): Promise<void> {
    const path = join(dir, name);
    this.refuseKept(path, `template file ${entry}`);
    const found = await this.look(path, entry);
    if (found?.isSymbolicLink() || found?.isDirectory())
      throw this.inTheWay(path, found, `template file ${entry}`);
    await this.replace(path, entry, async (temp) => {
      await create(temp);
      // Permission bits only: a setuid or setgid bit is never staged.
      await chmod(temp, mode & 0o777);
    });
  }

  /**
   * Recreates template symlink `entry` as a link with the same target text.
   * A link that is already exactly that is kept; returns whether it was.
   */
  async link(dir: string, name: string, entry: string, target: string): Promise<'kept' | 'made'> {
    const path = join(dir, name);
    this.refuseKept(path, `template symlink ${entry}`);
    const found = await this.look(path, entry);
    if (found?.isSymbolicLink()) {
      const existing = await readlink(path).catch((error) => {
        throw templateFsError(error, `template symlink ${entry}: reading ${path}`);
      });
      if (existing === target) return 'kept';
    }
    if (found?.isSymbolicLink() || found?.isDirectory())
      throw this.inTheWay(path, found, `template symlink ${entry}`);
    await this.replace(path, entry, (temp) => symlink(target, temp));
    return 'made';
  }

  private async replace(
    path: string,
    entry: string,
    create: (temp: string) => Promise<void>,
  ): Promise<void> {
    // A short name of our own, so a long target name cannot make it too long.
    const temp = join(path, '..', `.modelrun-staging-${randomBytes(6).toString('hex')}`);
    try {
      await create(temp);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw templateFsError(error, `template entry ${entry}: writing ${path}`);
    }
  }

  private refuseKept(path: string, what: string): void {
    const at = relative(this.root, path);
    if (!this.keep.has(at)) return;
    throw new ConfigError(
      `${what} would be staged over ${at}, a file this run was made from that lies in the staging dir`,
      {
        hint: 'rename the template entry, or stage the run in a folder of its own, such as output_dir: ./simulations with run_id_subdir: true',
      },
    );
  }

  private async look(path: string, entry: string): Promise<Stats | undefined> {
    try {
      return await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw templateFsError(error, `template entry ${entry}: checking ${path}`);
    }
  }

  private inTheWay(path: string, found: Stats, what: string): ConfigError {
    const at = relative(this.root, path);
    if (found.isSymbolicLink()) {
      return new ConfigError(
        `${what}: the staging directory ${this.root} holds a symlink ${at} where it goes; modelrun never writes through a symlink, so nothing outside the staging directory is changed`,
        { hint: `remove ${path}, or ${REMOVE_HINT}` },
      );
    }
    const kind = found.isDirectory() ? 'a folder' : 'a file';
    return new ConfigError(
      `${what}: the staging directory ${this.root} holds ${kind} ${at} where it goes`,
      {
        hint: `remove ${path} or rename the template entry, or ${REMOVE_HINT}`,
      },
    );
  }
}
