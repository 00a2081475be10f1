#!/usr/bin/env node
// Measures what an npm user waits for: `npm pack` of this checkout, then
// `npm install` of the tarball into an empty prefix, offline. The baseline,
// in the same run, is npm installing zod alone (modelrun's one runtime
// dependency) into an empty prefix: npm's own floor for a small package.
// The target is under 10 s for pack and install together on a 2-core machine.
// Usage: npm run bench:install  (or: node bench/install.js [runs]; BENCH_RUNS=3)
// Build first (npm run build); the pack runs without scripts, as it would
// otherwise rebuild dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3);
// npm run passes its own settings down as npm_* variables; the inner npm must not see them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, env, encoding: 'utf8' });
const timed = (fn) => {
  const started = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
};
const install = (prefix, tarballs) => {
  mkdirSync(prefix);
  npm(['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, ...tarballs], prefix);
};

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-install-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));

// zod as a tarball: npm 11 wants its full registry metadata even offline,
// and the cache after `npm ci` has only the abbreviated one.
const zod = join(
  dir,
  JSON.parse(
    npm(
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir, './node_modules/zod'],
      root,
    ),
  )[0].filename,
);

const samples = { pack: [], install: [], total: [], zod: [] };
let packed;
for (let i = 0; i < runs; i++) {
  const out = join(dir, `run-${i}`);
  mkdirSync(out);
  const pack = timed(
    () =>
      JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], root))[0],
  );
  packed = pack.result;
  const ours = timed(() => install(join(out, 'prefix'), [join(out, packed.filename), zod]));
  const alone = timed(() => install(join(out, 'zod-only'), [zod]));
  samples.pack.push(pack.ms);
  samples.install.push(ours.ms);
  samples.total.push(pack.ms + ours.ms);
  samples.zod.push(alone.ms);
}

const installed = readdirSync(join(dir, 'run-0', 'prefix', 'node_modules')).filter(
  (name) => !name.startsWith('.'),
);
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const total = median(samples.total);
console.log(`npm pack and install into an empty prefix, offline (median of ${runs})`);
console.log(
  `  package          ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packed.entryCount} files`,
);
console.log(`  installed        ${installed.length} packages: ${installed.join(', ')}`);
console.log(`  npm pack         ${s(median(samples.pack))}`);
console.log(`  npm install      ${s(median(samples.install))}`);
console.log(`  zod alone        ${s(median(samples.zod))}  (baseline)`);
console.log(`  install/baseline ${(median(samples.install) / median(samples.zod)).toFixed(2)}x`);
console.log(
  `  pack + install   ${s(total)}  (target: under 10 s) ${total < 10_000 ? 'ok' : 'OVER'}`,
);
