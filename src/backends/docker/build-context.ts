import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import dockerignore from '@balena/dockerignore';
import { type Pack, pack } from 'tar-stream';

/** Name the Dockerfile gets in the context tar when it lives outside the context folder. */
const OUTSIDE_DOCKERFILE = '.modelrun.Dockerfile';

export interface BuildContext {
  dir: string;
  /** Absolute path of the Dockerfile. */
  dockerfilePath: string;
  /** The Dockerfile's name inside the tar, as the engine is told it. */
  dockerfile: string;
  /** Context entries, POSIX-relative and sorted, after .dockerignore. */
  entries: { path: string; kind: 'file' | 'directory' | 'symlink' }[];
}

/**
 * What the engine is sent as the build context: every file of the folder
 * that .dockerignore does not exclude. The Dockerfile and .dockerignore are
 * always sent, as the docker CLI does.
 */
export async function readBuildContext(dir: string, dockerfilePath: string): Promise<BuildContext> {
  const rules = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => '');
  // A CommonJS module whose typings declare a default export; at run time both forms are the function.
  const ignored = dockerignore
    .default()
    .add(rules.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#')));
  const inside = relative(dir, dockerfilePath).split(sep).join('/');
  const dockerfile = inside.startsWith('..') ? OUTSIDE_DOCKERFILE : inside;
  const always = new Set([dockerfile, '.dockerignore']);
  // An exception (!pattern) can bring back a file inside an ignored folder.
  const hasExceptions = /^\s*!/m.test(rules);
  const entries: BuildContext['entries'] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(join(dir, folder), { withFileTypes: true })) {
      const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
      const skip = ignored.ignores(path) && !always.has(path);
      if (entry.isDirectory()) {
        if (!skip) entries.push({ path, kind: 'directory' });
        if (!skip || hasExceptions) await walk(path);
      } else if (skip) continue;
      else if (entry.isSymbolicLink()) entries.push({ path, kind: 'symlink' });
      else if (entry.isFile()) entries.push({ path, kind: 'file' });
    }
  };
  await walk('');
  // The Dockerfile goes even when it sits in a folder the walk skipped.
  if (dockerfile !== OUTSIDE_DOCKERFILE && !entries.some((e) => e.path === dockerfile)) {
    entries.push({ path: dockerfile, kind: 'file' });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { dir, dockerfilePath, dockerfile, entries };
}

/**
 * `modelrun-<12 hex>`: a hash over the Dockerfile, the build args and the
 * context's contents (names, kinds, modes, bytes). An image with this tag
 * already holds exactly this build, so it is reused; any change rebuilds.
 */
export async function buildTag(
  context: BuildContext,
  buildArgs: Record<string, string>,
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`dockerfile\0${context.dockerfile}\0`);
  hash.update(await readFile(context.dockerfilePath));
  const args = Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : 1));
  hash.update(`\0args\0${JSON.stringify(args)}\0`);
  for (const entry of context.entries) {
    const path = join(context.dir, entry.path);
    const info = await lstat(path);
    hash.update(`${entry.kind}\0${entry.path}\0${info.mode & 0o777}\0`);
    if (entry.kind === 'symlink') hash.update(await readlink(path));
    if (entry.kind === 'file') {
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    }
    hash.update('\0');
  }
  return `modelrun-${hash.digest('hex').slice(0, 12)}`;
}

/** Streams the context as a tar, one file at a time, without holding it in memory. */
export function contextTar(context: BuildContext): Pack {
  const tar = pack();
  const fill = async () => {
    for (const entry of context.entries) {
      const path = join(context.dir, entry.path);
      const info = await lstat(path);
      const header = { name: entry.path, mode: info.mode & 0o7777, mtime: info.mtime };
      if (entry.kind === 'directory') tar.entry({ ...header, type: 'directory' });
      else if (entry.kind === 'symlink')
        tar.entry({ ...header, type: 'symlink', linkname: await readlink(path) });
      else await pipeline(createReadStream(path), tar.entry({ ...header, size: info.size }));
    }
    if (context.dockerfile === OUTSIDE_DOCKERFILE) {
      tar.entry({ name: OUTSIDE_DOCKERFILE, mode: 0o644 }, await readFile(context.dockerfilePath));
    }
    tar.finalize();
  };
  fill().catch((error: Error) => tar.destroy(error));
  return tar;
}
