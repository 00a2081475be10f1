import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isSecretName, MASK } from '../secrets.js';

/**
 * What a run's outputs depend on, as a hash: its merged model and backend
 * configs, its postprocessors, and the contents of its template. An
 * ensemble's `--resume` reruns a member whose hash changed. Secret values
 * are masked first: they never reach disk, even hashed, and a new token
 * does not make old results stale.
 */
export function inputsDigest(
  parts: Record<string, unknown>,
  templateDigest: string,
  roots: readonly string[] = [],
): string {
  const hash = createHash('sha256');
  // Paths under `roots` count from there: a project moved as a whole is the same inputs.
  let text = JSON.stringify(sortKeys(maskSecretTexts(parts)));
  for (const [i, root] of roots.entries())
    text = text.replaceAll(JSON.stringify(root).slice(1, -1), `<root ${i}>`);
  hash.update(text);
  hash.update('\0');
  hash.update(templateDigest);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A template folder's contents as a hash: each entry's path and kind, a
 * file's mode and bytes, a link's target (not followed). Other kinds of
 * files (a FIFO) count by their kind alone, and are never opened. An entry
 * that cannot be read counts by its error: staging refuses it with a
 * message of its own, which a bare fs error here would cut short.
 */
export async function templateDigest(root: string | undefined): Promise<string> {
  const hash = createHash('sha256');
  if (root !== undefined) await digestFolder(root, '', hash);
  return hash.digest('hex');
}

async function digestFolder(root: string, relative: string, hash: Hash): Promise<void> {
  const entries = await readdir(join(root, relative)).catch(errorCode);
  if (typeof entries === 'string') {
    hash.update(`e ${relative}\0${entries}\0`);
    return;
  }
  for (const name of entries.sort()) {
    const path = relative === '' ? name : join(relative, name);
    await digestEntry(root, path, hash).catch((error: unknown) => {
      hash.update(`e ${path}\0${errorCode(error)}\0`);
    });
  }
}

async function digestEntry(root: string, path: string, hash: Hash): Promise<void> {
  const full = join(root, path);
  const stats = await lstat(full);
  if (stats.isDirectory()) {
    hash.update(`d ${path}\0`);
    await digestFolder(root, path, hash);
  } else if (stats.isSymbolicLink()) {
    hash.update(`l ${path}\0${await readlink(full)}\0`);
  } else if (stats.isFile()) {
    // The mode as staging gives it to the staged file: a script that is no longer executable runs otherwise.
    hash.update(`f ${path}\0${(stats.mode & 0o777).toString(8)}\0${stats.size}\0`);
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

/** An fs error's code; anything else is a bug, and is thrown on. */
function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') throw error;
  return code;
}

/**
 * The data with the texts under secret-named keys masked, at any depth. A
 * secret is text; numbers, booleans and the structure under such a key
 * (`keyframes: [0, 10]`, which the name rule takes for one) still count.
 */
function maskSecretTexts(value: unknown, secret = false): unknown {
  if (typeof value === 'string') return secret ? MASK : value;
  if (Array.isArray(value)) return value.map((item) => maskSecretTexts(item, secret));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      maskSecretTexts(inner, secret || isSecretName(key)),
    ]),
  );
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
