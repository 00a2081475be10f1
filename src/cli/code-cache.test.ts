import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CodeCache, codeCacheDir } from './code-cache.js';

let harness: string;
let harnessDir: string;
beforeAll(() => {
  harnessDir = mkdtempSync(join(tmpdir(), 'modelrun-code-cache-harness-'));
  harness = join(harnessDir, 'harness.cjs');
  buildSync({
    stdin: {
      contents: [
        "import { runCachedScript } from './code-cache.ts';",
        'const [file, cache] = process.argv.slice(2);',
        'let writes = 0;',
        'const exports = runCachedScript(file, JSON.parse(cache) ?? undefined, (write) => {',
        '  writes++;',
        "  process.once('exit', write);",
        '});',
        "process.once('exit', () => process.stdout.write(JSON.stringify({ exports, writes })));",
      ].join('\n'),
      resolveDir: import.meta.dirname,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: harness,
    logLevel: 'error',
  });
});
afterAll(() => rmSync(harnessDir, { recursive: true, force: true }));

let temp: string;
beforeEach(() => {
  temp = mkdtempSync(join(tmpdir(), 'modelrun-code-cache-test-'));
});
afterEach(() => rmSync(temp, { recursive: true, force: true }));

const uid = process.getuid?.() ?? 0;

/** A bundle that asks for a vendored bundle beside it, as dist/cli.cjs does. */
function bundles(): string {
  const dist = join(temp, 'dist');
  mkdirSync(dist);
  writeFileSync(
    join(dist, 'vendor-greeting.cjs'),
    'module.exports = { greet: (name) => `hello ${name}` };\n',
  );
  writeFileSync(
    join(dist, 'cli.cjs'),
    [
      "const { greet } = require('./vendor-greeting.cjs');",
      "const { basename } = require('node:path');",
      'exports.said = greet(basename(__filename));',
    ].join('\n'),
  );
  return join(dist, 'cli.cjs');
}

/**
 * Runs the bundle in a Node of its own, as the CLI does: the cache is
 * written as that process exits. In this process, V8 would find the code
 * it compiled before in memory, and the cache on disk would go untested.
 */
function runOnce(file: string, cache: CodeCache | undefined): { exports: unknown; writes: number } {
  const result = spawnSync(process.execPath, [harness, file, JSON.stringify(cache ?? null)], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (result.status !== 0) throw new Error(`harness failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { exports: unknown; writes: number };
}

/** Each bundle's build, as esbuild.config.js writes it into the entry: a hash of its content. */
function builds(): Record<string, string> {
  const dist = join(temp, 'dist');
  return Object.fromEntries(
    readdirSync(dist).map((name) => [
      name,
      createHash('sha256')
        .update(readFileSync(join(dist, name)))
        .digest('hex')
        .slice(0, 16),
    ]),
  );
}

const cacheFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.v8'));

describe('runCachedScript', () => {
  it('runs a bundle as require would, and its vendored bundles from the cache too', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    const first = runOnce(file, { dir, kind: 'help', builds: builds() });
    expect(first.exports).toEqual({ said: 'hello cli.cjs' });
    expect(first.writes).toBe(2);
    expect(cacheFiles(dir)).toHaveLength(2);
    for (const name of cacheFiles(dir)) expect(lstatSync(join(dir, name)).mode & 0o777).toBe(0o600);

    // The next run takes both from the cache, and writes nothing.
    const again = runOnce(file, { dir, kind: 'help', builds: builds() });
    expect(again).toEqual({ exports: first.exports, writes: 0 });
  });

  it('keeps one cache for each kind of call', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    runOnce(file, { dir, kind: 'help', builds: builds() });
    expect(runOnce(file, { dir, kind: 'run', builds: builds() }).writes).toBe(2);
    expect(cacheFiles(dir).filter((name) => name.endsWith('-run.v8'))).toHaveLength(2);
  });

  it('writes a cache again that V8 refuses, and still runs the bundle', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    runOnce(file, { dir, kind: 'help', builds: builds() });
    for (const name of cacheFiles(dir)) writeFileSync(join(dir, name), 'not V8 code');
    const again = runOnce(file, { dir, kind: 'help', builds: builds() });
    expect(again.exports).toEqual({ said: 'hello cli.cjs' });
    expect(again.writes).toBe(2);
    for (const name of cacheFiles(dir))
      expect(readFileSync(join(dir, name), 'latin1')).not.toBe('not V8 code');
  });

  it('never meets the cache of another build of the bundle, even one copied in with cp -p', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    // The entry still names the old build: only the file itself can tell.
    const built = builds();
    runOnce(file, { dir, kind: 'help', builds: built });
    const { atime, mtime } = statSync(file);
    // The same length, other code, in the same inode, with the old times: V8 alone would take the old cache for it.
    writeFileSync(file, readFileSync(file, 'utf8').replace('greet(basename', 'greet(typeof  '));
    utimesSync(file, atime, mtime);
    expect(runOnce(file, { dir, kind: 'help', builds: built }).exports).toEqual({
      said: 'hello string',
    });
  });

  it('caches no bundle whose build it is not told', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    expect(runOnce(file, { dir, kind: 'help', builds: {} })).toEqual({
      exports: { said: 'hello cli.cjs' },
      writes: 0,
    });
    expect(cacheFiles(dir)).toEqual([]);
  });

  it('does not wait on a FIFO put where a cache file goes', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    runOnce(file, { dir, kind: 'help', builds: builds() });
    for (const name of cacheFiles(dir)) {
      rmSync(join(dir, name));
      execFileSync('mkfifo', [join(dir, name)]);
    }
    expect(runOnce(file, { dir, kind: 'help', builds: builds() }).exports).toEqual({
      said: 'hello cli.cjs',
    });
  });

  it('neither reads nor writes through a cache file that is a link', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    runOnce(file, { dir, kind: 'help', builds: builds() });
    // Good caches, but reached through links: a link could lead anywhere.
    const outside = join(temp, 'outside');
    mkdirSync(outside);
    const names = cacheFiles(dir);
    for (const name of names) {
      renameSync(join(dir, name), join(outside, name));
      symlinkSync(join(outside, name), join(dir, name));
    }
    const before = names.map((name) => readFileSync(join(outside, name)));
    expect(runOnce(file, { dir, kind: 'help', builds: builds() }).writes).toBe(2);
    expect(names.map((name) => readFileSync(join(outside, name)))).toEqual(before);
    for (const name of names) expect(lstatSync(join(dir, name)).isFile()).toBe(true);
  });

  it.skipIf(uid !== 0)('reads no cache file of another user', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    runOnce(file, { dir, kind: 'help', builds: builds() });
    for (const name of cacheFiles(dir)) chownSync(join(dir, name), 65534, 65534);
    expect(runOnce(file, { dir, kind: 'help', builds: builds() }).writes).toBe(2);
    for (const name of cacheFiles(dir)) expect(lstatSync(join(dir, name)).uid).toBe(uid);
  });

  it('keeps the 32 newest cache files, and removes no file it did not name', () => {
    const file = bundles();
    const dir = codeCacheDir(temp) as string;
    const old = new Date('2020-01-01T00:00:00Z');
    for (let i = 0; i < 40; i++) {
      const name = join(dir, `code-abcdef0123456789-1-2-3-4-${i.toString(36)}-v20.19.0_x64-run.v8`);
      writeFileSync(name, 'old');
      utimesSync(name, old, new Date(old.getTime() + i * 1000));
    }
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    utimesSync(join(dir, 'notes.txt'), old, old);
    runOnce(file, { dir, kind: 'help', builds: builds() });
    const left = cacheFiles(dir);
    expect(left).toHaveLength(32);
    expect(left.filter((name) => name.endsWith('-help.v8'))).toHaveLength(2);
    // The oldest went first.
    expect(left).not.toContain('code-abcdef0123456789-1-2-3-4-0-v20.19.0_x64-run.v8');
    expect(left).toContain(
      `code-abcdef0123456789-1-2-3-4-${(39).toString(36)}-v20.19.0_x64-run.v8`,
    );
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('compiles without a cache when given none', () => {
    const file = bundles();
    expect(runOnce(file, undefined)).toEqual({
      exports: { said: 'hello cli.cjs' },
      writes: 0,
    });
  });
});

describe('codeCacheDir', () => {
  const dirOf = () => join(temp, `modelrun-code-cache-${uid}`);

  it("makes a folder only the user can use, under the temp folder it's given", () => {
    expect(codeCacheDir(temp)).toBe(dirOf());
    expect(lstatSync(dirOf()).mode & 0o777).toBe(0o700);
    expect(codeCacheDir(temp)).toBe(dirOf());
  });

  it('refuses a link, a file, a folder others can write, and another user’s folder', () => {
    const elsewhere = join(temp, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, dirOf());
    expect(codeCacheDir(temp)).toBeUndefined();
    rmSync(dirOf());

    writeFileSync(dirOf(), '');
    expect(codeCacheDir(temp)).toBeUndefined();
    rmSync(dirOf());

    mkdirSync(dirOf(), { mode: 0o700 });
    chmodSync(dirOf(), 0o777);
    expect(codeCacheDir(temp)).toBeUndefined();
    chmodSync(dirOf(), 0o700);
    if (uid === 0) {
      chownSync(dirOf(), 65534, 65534);
      expect(codeCacheDir(temp)).toBeUndefined();
    }
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('uses no folder in a temp folder that others can write without the sticky bit', () => {
    const shared = join(temp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(codeCacheDir(shared)).toBeUndefined();
    expect(readdirSync(shared)).toEqual([]);
    chmodSync(shared, 0o1777);
    expect(codeCacheDir(shared)).toBe(join(shared, `modelrun-code-cache-${uid}`));
  });

  it('gives up quietly where the temp folder cannot hold it', () => {
    expect(codeCacheDir(join(temp, 'missing', 'deeper'))).toBeUndefined();
  });

  it('makes nothing under a relative temp folder, which would be the working directory', () => {
    expect(codeCacheDir('tmp')).toBeUndefined();
    expect(codeCacheDir('.')).toBeUndefined();
  });
});
