#!/usr/bin/env node
// Measures how long after a Slurm job completes the submitter notices: the
// time from the job's last line to the exit of `modelrun run`, against
// `sbatch --wait` on the same 1 s job, in one run.
// Usage: node bench/slurm.js [runs]   (needs a reachable slurmctld, such as
// .ci/slurm.sh start; build modelrun first with npm run build)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 5);

try {
  execFileSync('scontrol', ['ping'], { stdio: 'ignore' });
} catch {
  console.error('bench/slurm.js: needs a reachable Slurm controller (.ci/slurm.sh start)');
  process.exit(1);
}

/** Runs argv and returns ms from the job's end stamp to the process's exit. */
function latency(argv, cwd, stamp) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      const exitedAt = Date.now();
      if (code !== 0) return reject(new Error(`${argv.join(' ')} exited ${code}`));
      resolve(exitedAt - Number(readFileSync(stamp, 'utf8').trim()) * 1000);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-slurm-'));
try {
  // The job's last act: write the time it ended, in seconds.
  const job = 'sleep 1; date +%s.%N > "$STAMP"';
  writeFileSync(join(dir, 'model.yml'), `run_id: bench-slurm\ncommand: '${job}'\n`);
  writeFileSync(
    join(dir, 'slurm.yml'),
    `type: slurm\nenv_vars:\n  STAMP: ${join(dir, 'modelrun.stamp')}\n`,
  );
  writeFileSync(
    join(dir, 'job.sh'),
    `#!/bin/bash\n#SBATCH --output=${join(dir, 'sbatch-%j.out')}\nexport STAMP=${join(dir, 'sbatch.stamp')}\n${job}\n`,
  );
  const samples = { modelrun: [], sbatch: [] };
  for (let i = 0; i < runs; i++) {
    samples.sbatch.push(
      await latency(['sbatch', '--wait', '--quiet', 'job.sh'], dir, join(dir, 'sbatch.stamp')),
    );
    samples.modelrun.push(
      await latency(
        [process.execPath, bin, 'run', 'model.yml', '--backend-config', 'slurm.yml'],
        dir,
        join(dir, 'modelrun.stamp'),
      ),
    );
  }
  const sbatch = median(samples.sbatch);
  const modelrun = median(samples.modelrun);
  console.log(
    `Slurm backend: from the end of a 1 s job to the submitter's exit (median of ${runs})`,
  );
  console.log(`                              ms  vs sbatch --wait`);
  console.log(`  sbatch --wait       ${sbatch.toFixed(0).padStart(10)}            1.00x`);
  console.log(
    `  modelrun run        ${modelrun.toFixed(0).padStart(10)}  ${(modelrun / sbatch).toFixed(2).padStart(14)}x`,
  );
  console.log(
    `  all samples: sbatch ${samples.sbatch.map((v) => v.toFixed(0)).join(', ')}; modelrun ${samples.modelrun.map((v) => v.toFixed(0)).join(', ')}`,
  );
  console.log(
    `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
