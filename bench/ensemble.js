#!/usr/bin/env node
// Measures `modelrun ensemble`:
// - local: 200 members of `true`, two at once, against `seq 200 | xargs -P2
//   -n1 sh -c true` in the same run: modelrun's overhead per member; and the
//   peak RSS of 200 and of 2,000 members, which should stay flat;
// - slurm (when sbatch is here): 50 members of `sleep 1`, ten at once, against
//   `sbatch --wait --array=0-49%10` of the same script, counting modelrun's
//   sbatch calls and state queries through a PATH shim.
// Usage: node bench/ensemble.js [runs]   (build modelrun first: npm run build)
// BENCH_BIG=0 leaves out the 2,000 members, which take a few minutes here.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, measure, rssMethod, table } from './lib/measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-ensemble-'));
const options = { cwd: dir, rssFile: join(dir, 'rss') };

function ensembleFile(name, members, lines) {
  writeFileSync(
    join(dir, `${name}.yml`),
    [`model: model.yml`, `ensemble_id: ${name}`, `replicas: ${members}`, ...lines, ''].join('\n'),
  );
  return `${name}.yml`;
}

try {
  writeFileSync(join(dir, 'model.yml'), 'run_id: t\noutput_dir: ./sims\ncommand: "true"\n');
  // Each run starts afresh: an earlier run's members would be archived first.
  const fresh = () => rmSync(join(dir, 'sims'), { recursive: true, force: true });

  const local = ensembleFile('local200', 200, ['max_parallel: 2']);
  const [xargs, ensemble] = await compare(
    [
      { argv: ['sh', '-c', 'seq 200 | xargs -P2 -n1 sh -c true'] },
      { argv: [process.execPath, bin, 'ensemble', local], after: fresh },
    ],
    runs,
    options,
  );
  const perMember = (ensemble.ms - xargs.ms) / 200;
  console.log(`local, 200 members of \`true\`, 2 at once (median of ${runs}; RSS: ${rssMethod})`);
  // CPU is user and system time, its children's included: on two cores, an
  // ensemble of short members is bound by it, not by waiting.
  const row = (name, m) => [
    name,
    `${(m.ms / 1000).toFixed(2)} s`,
    Number.isNaN(m.cpuMs) ? '-' : `${(m.cpuMs / 1000).toFixed(2)} s`,
    `${Math.round(m.rssKiB / 1024)} MiB`,
  ];
  table(
    ['', 'time', 'CPU', 'peak RSS'],
    [row('xargs -P2 sh -c true', xargs), row('modelrun ensemble', ensemble)],
  );
  console.log(`modelrun's overhead: ${perMember.toFixed(1)} ms per member`);
  if (!Number.isNaN(ensemble.cpuMs))
    console.log(
      `CPU per member: ${(ensemble.cpuMs / 200).toFixed(1)} ms for modelrun, ${(xargs.cpuMs / 200).toFixed(1)} ms for xargs`,
    );

  if (process.env.BENCH_BIG !== '0') {
    fresh();
    const big = ensembleFile('local2000', 2000, ['max_parallel: 2']);
    const { ms, rssKiB } = await measure([process.execPath, bin, 'ensemble', big], options);
    console.log(
      `2,000 members: ${(ms / 1000).toFixed(1)} s, peak RSS ${(rssKiB / 1024).toFixed(0)} MiB (200 members: ${(ensemble.rssKiB / 1024).toFixed(0)} MiB)`,
    );
    fresh();
  }

  if (spawnSync('sbatch', ['--version']).status === 0) slurm();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** 50 members of `sleep 1`, ten at once, as one array by modelrun and by sbatch --wait. */
function slurm() {
  const id = `bench-${process.pid}`;
  writeFileSync(join(dir, 'nap.yml'), 'run_id: nap\noutput_dir: ./sims\ncommand: "sleep 1"\n');
  const job = 'type: slurm\ncpus_per_task: 1\nmem: 50M\ntime_limit: "00:05:00"\n';
  writeFileSync(
    join(dir, `${id}.yml`),
    `model: nap.yml\nensemble_id: ${id}\nreplicas: 50\nmax_parallel: 10\nbackend:\n${job.replace(/^/gm, '  ')}`,
  );
  // Each call of a Slurm command leaves a line, then runs the real one.
  const shim = join(dir, 'shim');
  mkdirSync(shim);
  for (const command of ['sbatch', 'scontrol', 'squeue', 'scancel']) {
    writeFileSync(
      join(shim, command),
      `#!/bin/sh\necho "${command} $*" >> "${join(dir, 'calls.log')}"\nPATH="$REAL_PATH" exec ${command} "$@"\n`,
    );
    chmodSync(join(shim, command), 0o755);
  }
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [bin, 'ensemble', `${id}.yml`], {
    cwd: dir,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${shim}:${process.env.PATH}`, REAL_PATH: process.env.PATH },
  });
  const ensembleS = Number(process.hrtime.bigint() - started) / 1e9;
  const calls = readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
  const submits = calls.filter((c) => c.startsWith('sbatch --parsable')).length;
  const looks = calls.filter((c) => /^(scontrol show job|squeue)/.test(c)).length;

  writeFileSync(
    join(dir, 'nap.sh'),
    `#!/bin/bash\n#SBATCH --job-name=${id}-plain\n#SBATCH --output=/dev/null\n#SBATCH --cpus-per-task=1\n#SBATCH --mem=50M\n#SBATCH --time=00:05:00\nsleep 1\n`,
  );
  const plainStarted = process.hrtime.bigint();
  execFileSync('sbatch', ['--wait', '--array=0-49%10', 'nap.sh'], { cwd: dir, stdio: 'ignore' });
  const plainS = Number(process.hrtime.bigint() - plainStarted) / 1e9;
  console.log('slurm, 50 members of `sleep 1`, 10 at once (one run each)');
  console.log(`  sbatch --wait --array=0-49%10  ${plainS.toFixed(1)} s`);
  console.log(
    `  modelrun ensemble              ${ensembleS.toFixed(1)} s (${(ensembleS / plainS).toFixed(2)}x), ${submits} sbatch, ${looks} state queries in ${Math.ceil(ensembleS)} s`,
  );
}
