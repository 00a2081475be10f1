import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { maskSecretKeys } from '../secrets.js';

/**
 * What a run's outputs depend on, as a hash: its merged model and backend
 * configs, its postprocessors, and the contents of its template. An
 * ensemble's `--resume` reruns a member whose hash changed. Secret values
 * are masked first: they never reach disk, even hashed, and a new token
 * does not make old results stale.
 */
export function inputsDigest(parts: Record<string, unknown>, templateDigest: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(sortKeys(maskSecretKeys(parts))));
  hash.update('\0');
  hash.update(templateDigest);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A template folder's contents as a hash: each entry's path and kind, a
 * file's bytes, a link's target (not followed). Other kinds of files (a
 * FIFO) count by their kind alone, and are never opened.
 */
export async function templateDigest(root: string | undefined): Promise<string> {
  const hash = createHash('sha256');
  if (root !== undefined) await digestFolder(root, '', hash);
  return hash.digest('hex');
}

async function digestFolder(root: string, relative: string, hash: Hash): Promise<void> {
  const entries = (await readdir(join(root, relative))).sort();
  for (const name of entries) {
    const path = relative === '' ? name : join(relative, name);
    const full = join(root, path);
    const stats = await lstat(full);
    if (stats.isDirectory()) {
      hash.update(`d ${path}\0`);
      await digestFolder(root, path, hash);
    } else if (stats.isSymbolicLink()) {
      hash.update(`l ${path}\0${await readlink(full)}\0`);
    } else if (stats.isFile()) {
      hash.update(`f ${path}\0${stats.size}\0`);
      // Opened as it was seen: a link or FIFO put there since is refused, not followed or waited on.
      const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
      const file = await open(full, flags);
      try {
        await pipeline(
          file.createReadStream({ autoClose: false }),
          async (chunks: AsyncIterable<Buffer>) => {
            for await (const chunk of chunks) hash.update(chunk);
          },
        );
      } finally {
        await file.close();
      }
    } else {
      hash.update(`o ${path}\0`);
    }
  }
}

/** The same data with every mapping's keys in order, so that the hash does not depend on how a file ordered them. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
