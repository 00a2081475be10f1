#!/usr/bin/env node
// Measures modelrun's start-up (`--version`, `--help`) and `modelrun backends
// validate` over 1,000 config files in one process, against Node's own
// start-up (`node -e 0`) in the same run, and checks that the backends
// commands do not load the Docker engine client.
// Usage: npm run bench  (or: node bench/validate.js [files] [runs])
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProbe } from './lib/load-probe.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const fileCount = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 7);

const configs = [
  'type: local\ncommand: ./run.sh\ntimeout: 2h\nenv_vars:\n  OMP_NUM_THREADS: 4\n',
  'type: docker\nimage: ubuntu:22.04\ncpu: 4\nmemory: 4g\nvolumes:\n  - data:/data:ro\ntimeout: 90m\n',
  'type: apptainer\nimage: docker://ubuntu:22.04\nbinds: [data]\ncpu: 2\nmemory: 2g\n',
];

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-'));
mkdirSync(join(dir, 'data'));
const files = [];
for (let i = 0; i < fileCount; i++) {
  const file = join(dir, `config-${i}.yml`);
  writeFileSync(file, configs[i % configs.length]);
  files.push(file);
}
// Whether a command reads the Docker client at all (see lib/load-probe.js).
const dockerodeProbe = loadProbe(dir, root, 'dockerode');
const probed = (...args) => dockerodeProbe(args);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args, options = {}) {
  const samples = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    last = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      ...options,
    });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { ms: median(samples), last };
}

/**
 * Start-ups, taken in turns (node, --version, --help, node, …) so that a
 * machine busy with something else slows each of them alike.
 */
function startups(cases) {
  const samples = cases.map(() => []);
  for (let i = 0; i < runs * 3; i++)
    cases.forEach((args, c) => {
      const started = process.hrtime.bigint();
      spawnSync(process.execPath, args, { stdio: 'ignore' });
      samples[c].push(Number(process.hrtime.bigint() - started) / 1e6);
    });
  return samples.map((s) => ({ ms: median(s) }));
}

try {
  const [nodeOnly, version, help] = startups([
    ['-e', '0'],
    [bin, '--version'],
    [bin, '--help'],
  ]);
  const validate = time([bin, 'backends', 'validate', '--format', 'json', ...files]);
  if (validate.last.status !== 0)
    throw new Error(`validate failed:\n${validate.last.stdout.slice(0, 2000)}`);
  const dockerByValidate = probed(bin, 'backends', 'validate', ...files.slice(0, 10));
  const dockerByList = probed(bin, 'backends', 'list');

  const beyond = validate.ms - nodeOnly.ms;
  console.log(
    `node ${process.version}, ${fileCount} files, median of ${runs} runs (${runs * 3} for start-up)`,
  );
  console.log(`node -e 0                         ${nodeOnly.ms.toFixed(0).padStart(6)} ms`);
  for (const [label, measured] of [
    ['modelrun --version', version],
    ['modelrun --help', help],
  ])
    console.log(
      `${label.padEnd(34)}${measured.ms.toFixed(0).padStart(6)} ms  (${(measured.ms / nodeOnly.ms).toFixed(2)}x node)`,
    );
  console.log(
    `modelrun backends validate ×${fileCount}  ${validate.ms.toFixed(0).padStart(6)} ms  (${(validate.ms / nodeOnly.ms).toFixed(2)}x node)`,
  );
  console.log(
    `  work beyond node start-up       ${beyond.toFixed(0).padStart(6)} ms  (${(beyond / fileCount).toFixed(3)} ms a file)`,
  );
  console.log(`dockerode loaded by validate: ${dockerByValidate ? 'YES' : 'no'}`);
  console.log(`dockerode loaded by list:     ${dockerByList ? 'YES' : 'no'}`);
  console.log(
    `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
