import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTER_FILES } from '../src/cli/starter-files.js';
import { REPO_ROOT } from './helpers/cli.js';
import { installTarballs, type Packed, packModelrun, packZod } from './helpers/npm-pack.js';

/**
 * The npm package as a user gets it: packed from the checkout (built
 * first, `npm run build`), installed into an empty prefix with no network,
 * and used there, far from the repository, with a HOME of its own.
 */

/** What the package holds at its top level, and nothing else. */
const TOP_LEVEL = ['LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'schemas', 'starter'];
/** Packages whose install compiles native code; none may come with modelrun. */
const NATIVE = ['ssh2', 'cpu-features', 'node-gyp', 'nan', 'node-addon-api', 'bufferutil'];
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

let root: string;
let packed: Packed;
let prefix: string;
let installed: string;
let npmOutput: string;
let installMs: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'modelrun-package-'));
  const started = Date.now();
  const [ours, zod] = await Promise.all([packModelrun(root), packZod(root)]);
  packed = ours;
  prefix = join(root, 'prefix');
  mkdirSync(prefix);
  const installStarted = Date.now();
  const npm = await installTarballs(prefix, [packed.tarball, zod]);
  installMs = Date.now() - installStarted;
  npmOutput = `${npm.stdout}\n${npm.stderr}`;
  installed = join(prefix, 'node_modules', 'modelrun');
  console.log(
    `package: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
      `${packed.files.length} files; pack and install took ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(install ${(installMs / 1000).toFixed(1)} s)`,
  );
}, 180_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const paths = () => packed.files.map((file) => file.path);

describe('the packed tarball', () => {
  it('holds bin, dist, schemas, starter, README.md, LICENSE and package.json, and nothing else', () => {
    expect([...new Set(paths().map((path) => path.split('/')[0]))].sort()).toEqual(TOP_LEVEL);
    for (const path of paths()) expect(path).not.toMatch(/^(src|test|bench|\.ci|examples)\//);
    // TypeScript sources stay out; the library's bundled declarations go in.
    expect(paths().filter((path) => /\.test\.|(?<!\.d)\.ts$/.test(path))).toEqual([]);
  });

  it('holds every file that bin/ and dist/ import, and the source map each names', () => {
    const files = new Set(paths());
    const missing: string[] = [];
    for (const path of files) {
      if (!/^(bin|dist)\/.*\.c?js$/.test(path)) continue;
      const text = readFileSync(join(REPO_ROOT, path), 'utf8');
      const folder = path.split('/').slice(0, -1);
      const imports = text.matchAll(
        /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["'](\.{1,2}\/[^"']+)["']/g,
      );
      const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      for (const spec of [...[...imports].map((m) => m[1] as string), ...(map ? [map] : [])]) {
        const resolved = join(...folder, spec);
        if (!files.has(resolved)) missing.push(`${path} -> ${resolved}`);
      }
    }
    expect(missing).toEqual([]);
    // main.cjs runs cli.cjs by its path (src/cli/main.ts), not by require().
    expect([...files]).toEqual(
      expect.arrayContaining(['bin/package.json', 'dist/main.cjs', 'dist/cli.cjs']),
    );
  });

  it('ships the starter files that init writes, no others, and the schemas their modelines name', () => {
    expect(
      paths()
        .filter((path) => path.startsWith('starter/'))
        .sort(),
    ).toEqual(STARTER_FILES.map((file) => `starter/${file.from}`).sort());
    expect(paths()).toEqual(
      expect.arrayContaining(['schemas/model.schema.json', 'schemas/local.schema.json']),
    );
  });

  it('depends at run time on a handful of packages, none built natively, and has no install script', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      scripts?: Record<string, string>;
      license?: string;
      repository?: { url?: string };
      homepage?: string;
      bugs?: { url?: string };
    };
    const dependencies = Object.keys(manifest.dependencies ?? {});
    expect(dependencies.length).toBeLessThanOrEqual(3);
    for (const name of NATIVE) expect(dependencies).not.toContain(name);
    for (const script of INSTALL_SCRIPTS) expect(manifest.scripts ?? {}).not.toHaveProperty(script);
    expect(manifest.license).toBe('MIT');
    expect(manifest.repository?.url).toBe('git+https://github.com/modelrun/modelrun.git');
    expect(manifest.homepage).toBe('https://github.com/modelrun/modelrun#readme');
    expect(manifest.bugs?.url).toBe('https://github.com/modelrun/modelrun/issues');
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) 2026 the modelrun authors\n/,
    );
  });
});

describe('installed into an empty prefix', () => {
  it('brings a handful of packages, with no native build and no install script', () => {
    const packages = installedPackages(join(prefix, 'node_modules'));
    expect(packages.map((p) => p.name).sort()).toEqual(['modelrun', 'zod']);
    for (const { name, dir } of packages) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
        gypfile?: boolean;
      };
      for (const script of INSTALL_SCRIPTS)
        expect(manifest.scripts ?? {}, name).not.toHaveProperty(script);
      expect(
        filesUnder(dir).filter((f) => /(^|\/)binding\.gyp$|\.node$/.test(f)),
        name,
      ).toEqual([]);
    }
    // npm 11 warns about each package with an install script it did not run.
    expect(npmOutput).not.toMatch(/install-scripts|allowScripts/);
    expect(installMs).toBeLessThan(60_000);
  });

  it('prints its version, writes a starter project with init, and runs it, with no repository around', () => {
    const home = join(root, 'home');
    mkdirSync(home);
    const work = join(root, 'work');
    mkdirSync(work);
    const bin = join(prefix, 'node_modules', '.bin', 'modelrun');
    const modelrun = (args: string[], cwd: string) => {
      const result = spawnSync(bin, args, {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' },
      });
      return {
        ...result,
        shown: `${args.join(' ')}: exit ${result.status}\n${result.stdout}\n${result.stderr}`,
      };
    };

    const version = modelrun(['--version'], work);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim(), version.shown).toBe(manifest.version);

    const init = modelrun(['init', 'proj'], work);
    expect(init.status, init.shown).toBe(0);
    expect(init.stderr).toContain('next: cd proj && modelrun run model.yml');
    const proj = join(work, 'proj');
    // A modeline that is a path names the installed package's schema, not the checkout's.
    const modeline = readFileSync(join(proj, 'model.yml'), 'utf8').split('\n')[0] ?? '';
    const ref = /^# yaml-language-server: \$schema=(\S+model\.schema\.json)$/.exec(modeline)?.[1];
    expect(ref, modeline).toBeDefined();
    if (!/^https:/.test(ref ?? ''))
      expect(resolve(proj, ref ?? '')).toBe(join(installed, 'schemas', 'model.schema.json'));

    for (const args of [
      ['validate', 'model.yml'],
      ['backends', 'validate', 'local.yml'],
      ['run', 'model.yml'],
      ['run', 'model.yml', '--backend-config', 'local.yml'],
    ]) {
      const result = modelrun(args, proj);
      expect(result.status, result.shown).toBe(0);
    }
    const series = readFileSync(
      join(proj, 'simulations', 'starter', 'output', 'series.csv'),
      'utf8',
    );
    expect(series.split('\n').slice(0, 3)).toEqual(['step,value', '0,1000', '1,900']);
    expect(existsSync(join(proj, 'simulations', 'starter', 'SHA256SUMS'))).toBe(true);

    const again = modelrun(['init', 'proj'], work);
    expect(again.status, again.shown).toBe(2);
    expect(again.stderr).toMatch(/starter files are in the way.*never overwrites/);
  }, 90_000);

  it('turns source maps on for -v as for --verbose, and they name the sources', () => {
    const probe =
      'data:text/javascript,process.on("exit",()=>process.stderr.write(`maps=${process.sourceMapsEnabled}\\n`))';
    for (const flag of ['-v', '--verbose']) {
      const result = spawnSync(
        process.execPath,
        ['--import', probe, join(installed, 'bin', 'modelrun.js'), flag, '--version'],
        { encoding: 'utf8' },
      );
      expect(result.stderr, flag).toContain('maps=true');
    }
    const sources = (bundle: string) =>
      (
        JSON.parse(readFileSync(join(installed, 'dist', `${bundle}.map`), 'utf8')) as {
          sources: string[];
        }
      ).sources;
    expect(sources('main.cjs')).toContain('../src/cli/main.ts');
    expect(sources('cli.cjs')).toContain('../src/cli/process-main.ts');
  });
});

/** Every package under a node_modules folder, scoped and nested ones too. */
function installedPackages(modules: string): { name: string; dir: string }[] {
  const found: { name: string; dir: string }[] = [];
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const dir = join(modules, entry);
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(dir))
        found.push(...packageAt(`${entry}/${scoped}`, join(dir, scoped)));
    } else found.push(...packageAt(entry, dir));
  }
  return found;
}

function packageAt(name: string, dir: string): { name: string; dir: string }[] {
  return [{ name, dir }, ...installedPackages(join(dir, 'node_modules'))];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) =>
    statSync(join(dir, path)).isFile(),
  );
}
