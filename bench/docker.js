#!/usr/bin/env node
// Measures `modelrun run` of a trivial command on the docker backend against
// `docker run --rm` of the same command in the same image, in one run, and
// checks that neither leaves a container behind.
// Usage: node bench/docker.js [runs]   (needs a running engine and the test
// images: test/images/build.sh; build modelrun first with npm run build)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare } from './lib/measure.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 7);
const image = 'modelrun-test/busybox';

try {
  execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
} catch {
  console.error(
    `bench/docker.js: needs a running Docker engine and ${image} (test/images/build.sh)`,
  );
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-docker-'));
try {
  writeFileSync(join(dir, 'model.yml'), 'run_id: bench-docker\ncommand: "true"\n');
  writeFileSync(join(dir, 'docker.yml'), `type: docker\nimage: ${image}\npull_policy: never\n`);
  const options = { cwd: dir, rssFile: join(dir, 'rss') };
  const [cli, run] = await compare(
    [
      { argv: ['docker', 'run', '--rm', '--init', image, '/bin/sh', '-c', 'true'] },
      { argv: [process.execPath, bin, 'run', 'model.yml', '--backend-config', 'docker.yml'] },
    ],
    runs,
    options,
  );
  const left = execFileSync(
    'docker',
    ['ps', '-aq', '--filter', 'label=modelrun.run_id=bench-docker'],
    { encoding: 'utf8' },
  ).trim();
  console.log(`Docker backend, command \`true\` in ${image} (median of ${runs})`);
  console.log(`                                   ms  vs docker run`);
  console.log(`  docker run --rm --init     ${cli.ms.toFixed(0).padStart(9)}        1.00x`);
  console.log(
    `  modelrun run (docker)      ${run.ms.toFixed(0).padStart(9)}  ${(run.ms / cli.ms).toFixed(2).padStart(10)}x`,
  );
  console.log(`  containers left behind: ${left === '' ? 'none' : left.split('\n').length}`);
  console.log(
    `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
