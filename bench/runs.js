#!/usr/bin/env node
// Measures `modelrun runs` over many finished runs against `node -e 0`:
// listing reads run.json files only, so its time beyond Node's start-up
// should stay well under a second for 1,000 runs. It also checks that every
// run was listed.
// Usage: node bench/runs.js [runs]   (build first: npm run build)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, table } from './lib/measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const count = Number(process.argv[2] ?? process.env.BENCH_RUN_COUNT ?? 1000);
const repeats = Number(process.env.BENCH_RUNS ?? 7);

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-runs-'));
try {
  const sims = join(dir, 'simulations');
  for (let i = 0; i < count; i++) {
    const runDir = join(sims, `run-${String(i).padStart(5, '0')}`);
    mkdirSync(join(runDir, '.modelrun'), { recursive: true });
    mkdirSync(join(runDir, 'output'));
    const started = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
    writeFileSync(
      join(runDir, '.modelrun', 'run.json'),
      JSON.stringify({
        run_id: `run-${i}`,
        status: i % 10 === 0 ? 'failed' : 'succeeded',
        exit_code: i % 10 === 0 ? 1 : 0,
        started_at: started.toISOString(),
        ended_at: new Date(started.getTime() + 30_000).toISOString(),
        duration_s: 30,
        staging_dir: runDir,
        backend: { type: 'local', config: { type: 'local' } },
        stages: {
          generate: { status: 'succeeded' },
          run: { status: 'succeeded' },
          postprocess: { status: 'skipped' },
        },
        postprocess: [],
        modelrun_version: '0',
        host: {},
      }),
    );
  }
  const listed = JSON.parse(
    execFileSync(process.execPath, [bin, 'runs', '--json'], { cwd: dir, encoding: 'utf8' }),
  );
  if (listed.length !== count) throw new Error(`listed ${listed.length} runs of ${count}`);
  const [node, runs] = await compare(
    [{ argv: [process.execPath, '-e', '0'] }, { argv: [process.execPath, bin, 'runs'] }],
    repeats,
    { cwd: dir, rssFile: join(dir, 'rss') },
  );
  console.log(`modelrun runs over ${count} runs (median of ${repeats}, Node ${process.version})`);
  table(
    ['', 'ms'],
    [
      ['node -e 0', node.ms.toFixed(0)],
      ['modelrun runs', runs.ms.toFixed(0)],
    ],
  );
  console.log(
    `  beyond Node's start-up: ${(runs.ms - node.ms).toFixed(0)} ms (target: under 1000 ms)`,
  );
  console.log(
    `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
