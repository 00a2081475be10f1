import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.js';

const run = promisify(execFile);

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
 * network. The offline cache lacks the registry's record of zod, the one
 * dependency, so zod's tarball is packed from node_modules (the version
 * package.json asks for) and installed beside it. Done once per test file,
 * which calls remove() in afterAll. The pack uses the dist/ already built
 * (npm run build), rather than building it again through `prepare`.
 */
export function packedInstall(): Promise<PackedInstall> {
  cached ??= pack();
  return cached;
}

async function pack(): Promise<PackedInstall> {
  for (const file of ['dist/main.js', 'dist/index.js', 'dist/index.d.ts'])
    if (!existsSync(join(REPO_ROOT, file)))
      throw new Error(`${file} is missing: run npm run build before this test`);
  const root = mkdtempSync(join(tmpdir(), 'modelrun-packed-'));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', root], {
      cwd: REPO_ROOT,
    });
    const name = readdirSync(root).find((file) => file.endsWith('.tgz'));
    if (name === undefined) throw new Error('npm pack wrote no tarball');
    const tarball = join(root, name);
    const deps = join(root, 'deps');
    mkdirSync(deps);
    await run(
      'npm',
      [
        'pack',
        '--ignore-scripts',
        '--silent',
        '--pack-destination',
        deps,
        join(REPO_ROOT, 'node_modules', 'zod'),
      ],
      { cwd: root },
    );
    const prefix = join(root, 'prefix');
    await run(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--prefix',
        prefix,
        tarball,
        ...readdirSync(deps).map((file) => join(deps, file)),
      ],
      { cwd: root },
    );
    return { prefix, packageDir: join(prefix, 'node_modules', 'modelrun'), tarball, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
