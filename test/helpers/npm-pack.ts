import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.js';

const run = promisify(execFile);

/**
 * npm as a user runs it: without the npm_* settings that `npm test` passes
 * down to its children (a prefix, a cache, a user agent), which would make
 * the inner npm install somewhere else than the test asked.
 */
export function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
  );
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

export interface PackedFile {
  path: string;
  size: number;
}

export interface Packed {
  tarball: string;
  files: PackedFile[];
  size: number;
  unpackedSize: number;
}

/**
 * `npm pack` of the checkout into `dest`. Scripts are off: prepack would
 * rebuild dist/ under the feet of other tests; the e2e tests build first.
 */
export async function packModelrun(dest: string): Promise<Packed> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dest],
    { cwd: REPO_ROOT, env: npmEnv(), maxBuffer: 16 * 1024 * 1024 },
  );
  const [packed] = JSON.parse(stdout) as {
    filename: string;
    files: PackedFile[];
    size: number;
    unpackedSize: number;
  }[];
  if (packed === undefined) throw new Error(`npm pack printed no package: ${stdout}`);
  return { ...packed, tarball: join(dest, packed.filename) };
}

/**
 * The runtime dependency zod as a tarball, from the checkout's node_modules.
 * npm 11 asks the registry for a package's full metadata even with
 * --offline, and `npm ci` leaves only the abbreviated one in the cache; given
 * as a tarball, zod installs with no network, as from the registry.
 */
export async function packZod(dest: string): Promise<string> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dest, './node_modules/zod'],
    { cwd: REPO_ROOT, env: npmEnv() },
  );
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  return join(dest, packed?.filename ?? 'zod.tgz');
}

/** `npm install` of tarballs into the empty folder `prefix`, offline; npm's output, for asserts. */
export async function installTarballs(
  prefix: string,
  tarballs: string[],
): Promise<{ stdout: string; stderr: string }> {
  return run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, ...tarballs],
    { cwd: prefix, env: npmEnv() },
  );
}
