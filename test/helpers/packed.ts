import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { installTarballs, packModelrun, packZod } from './npm-pack.js';

export interface PackedInstall {
  /** The empty prefix the tarball was installed into. */
  prefix: string;
  /** The installed package: <prefix>/node_modules/modelrun. */
  packageDir: string;
  tarball: string;
  remove(): void;
}

let cached: Promise<PackedInstall> | undefined;

/**
 * Packs the package as `npm publish` would and installs the tarball into an
 * empty prefix, as a user's `npm install modelrun` does, without the
 * network (zod, the one dependency, comes packed from node_modules: see
 * packZod). Done once per test file, which calls remove() in afterAll. The
 * pack uses the dist/ already built (npm run build).
 */
export function packedInstall(): Promise<PackedInstall> {
  cached ??= pack();
  return cached;
}

async function pack(): Promise<PackedInstall> {
  for (const file of ['dist/main.cjs', 'dist/cli.cjs', 'dist/index.js', 'dist/index.d.ts'])
    if (!existsSync(join(REPO_ROOT, file)))
      throw new Error(`${file} is missing: run npm run build before this test`);
  const root = mkdtempSync(join(tmpdir(), 'modelrun-packed-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    const { tarball } = await packModelrun(root);
    const prefix = join(root, 'prefix');
    mkdirSync(prefix);
    await installTarballs(prefix, [tarball, await packZod(root)]);
    return { prefix, packageDir: join(prefix, 'node_modules', 'modelrun'), tarball, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
