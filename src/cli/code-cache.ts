import { isAscii } from 'node:buffer';
import {
  type BigIntStats,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Runs a CommonJS bundle as Node's `require` would, and returns its exports,
 * but keeps V8's compiled code for it between runs: compiling the CLI's
 * bundle was a third of every start-up, and Node 20 caches no compiled code
 * of its own (Node 22's `module.enableCompileCache()` does, but not for a
 * script run this way). The bundles it asks for in the same folder
 * (`./vendor-<name>.cjs`, see esbuild.config.js) are run the same way.
 *
 * The cache is one file per build of a bundle, per Node and per kind of
 * call (`kind`: the command, as each runs different code), in a folder of
 * the user's own under the temp folder, as Node 22 keeps its own. A cache
 * file is code that runs, so the folder is used only when it is a real
 * folder, the user's, that nobody else can write; otherwise the bundle is
 * compiled as if there were no cache. The file is written once, as the
 * first process to run a build exits, when the functions it ran are
 * compiled and go into the cache too; it is written to a temp name and
 * renamed, so that processes that start together never read half a file.
 * V8 checks that a cache fits its version and flags, and says when it does
 * not; the file is then written again.
 */
export function runCachedScript(
  file: string,
  cache: CodeCache | undefined,
  atExit: (write: () => void) => void = (write) => process.once('exit', write),
): unknown {
  const { bytes, stats } = readBundle(file);
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const path = cache === undefined ? undefined : cacheFile(file, stats, cache);
  const cachedData = path === undefined ? undefined : readOwnFile(path);
  const script = new Script(wrap(source), { filename: file, cachedData });
  if (path !== undefined && (cachedData === undefined || script.cachedDataRejected === true))
    atExit(() => writeCache(path, () => script.createCachedData()));
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  const require = bundleRequire(file, cache, atExit);
  run.call(module.exports, module.exports, require, module, file, dirname(file));
  return module.exports;
}

export interface CodeCache {
  /** The folder, from codeCacheDir(). */
  dir: string;
  /** What the call does, in lower-case letters and dashes: calls of one kind share a cache. */
  kind: string;
  /**
   * Each bundle's build, by file name: a hash of its content that the build
   * wrote into the entry (esbuild.config.js). A bundle without one gets no
   * cache.
   */
  builds: Record<string, string>;
}

/** The bundle's bytes, and its identity from the same open file: a rebuild meanwhile cannot mix the two. */
function readBundle(file: string): { bytes: Buffer; stats: BigIntStats } {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    return { stats: fstatSync(fd, { bigint: true }), bytes: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}

const VENDORED = /^\.\/vendor-[a-z-]+\.cjs$/;

/** Node's `require` for a bundle, but for its vendored bundles, which it runs from the cache once each. */
function bundleRequire(
  file: string,
  cache: CodeCache | undefined,
  atExit: (write: () => void) => void,
): NodeJS.Require {
  const require = createRequire(file);
  const loaded = new Map<string, unknown>();
  const vendored = (id: string): unknown => {
    if (!loaded.has(id)) loaded.set(id, runCachedScript(join(dirname(file), id), cache, atExit));
    return loaded.get(id);
  };
  return Object.assign((id: string) => (VENDORED.test(id) ? vendored(id) : require(id)), require);
}

/**
 * The folder for code caches: `modelrun-code-cache-<uid>` under the temp
 * folder, made if missing. Undefined when it cannot be trusted: a link, not
 * a folder, another user's, or writable by others; or when the temp folder
 * is a relative path (TMPDIR=tmp), which would put it in the working
 * directory.
 */
export function codeCacheDir(temp = tmpdir()): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined || !isAbsolute(temp)) return undefined;
  const dir = join(temp, `modelrun-code-cache-${uid}`);
  try {
    // In a temp folder others can write without the sticky bit (a shared scratch folder),
    // another user could rename the folder away between the check below and its use.
    const parent = statSync(temp);
    if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) return undefined;
    // Made only when missing: a failed mkdir costs an error, at every start-up.
    if (lstatSync(dir, { throwIfNoEntry: false }) === undefined) mkdirSync(dir, { mode: 0o700 });
    const stats = lstatSync(dir);
    return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** At most this many cache files stay in the folder, the newest: a few builds and Nodes, a dozen commands each. */
const KEPT = 32;
const CACHE_NAME = /^code-[0-9a-f]+-([0-9a-z]+-){5}[\w.]+-[a-z][a-z-]*\.v8$/;

/**
 * The cache file of this build of the bundle under this Node: named by the
 * hash of the bundle's content that its build wrote down, and by the file's
 * device, inode, size, and modification and change times, so that a
 * rebuilt or replaced bundle never meets the code of another (V8 itself
 * compares only the source's length). A copy with `cp -p` keeps the
 * modification time, but not the change time. Undefined for a bundle
 * whose build is not known.
 */
function cacheFile(file: string, stats: BigIntStats, cache: CodeCache): string | undefined {
  const build = cache.builds[basename(file)];
  if (build === undefined || !/^[0-9a-f]{8,64}$/.test(build)) return undefined;
  const id = [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].map((n) =>
    n.toString(36),
  );
  const node = `${process.version}-${process.arch}`.replace(/[^a-z0-9.]/gi, '_');
  return join(cache.dir, `code-${build}-${id.join('-')}-${node}-${cache.kind}.v8`);
}

/** The file's bytes if it is a plain file of this user's, reached without a link. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    // Non-blocking: a FIFO put in its place must not hold the start-up.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.uid !== process.getuid?.()) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Writes the cache under a temp name of its own and renames it into place; any failure leaves no cache. */
function writeCache(path: string, data: () => Buffer): void {
  const temp = `${path}.${process.pid}.tmp`;
  let made = false;
  try {
    writeFileSync(temp, data(), { flag: 'wx', mode: 0o600 });
    made = true;
    renameSync(temp, path);
    prune(dirname(path));
  } catch {
    // Only a temp file of its own: another process of the same pid (another PID namespace) may own one by that name.
    if (!made) return;
    try {
      unlinkSync(temp);
    } catch {}
  }
}

/** Removes the oldest cache files beyond KEPT; only files named as this module names them. */
function prune(dir: string): void {
  const files = readdirSync(dir)
    .filter((name) => CACHE_NAME.test(name))
    .map((name) => ({ path: join(dir, name), at: lstatSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of files.slice(KEPT)) unlinkSync(old.path);
}

function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}
