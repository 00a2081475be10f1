#!/usr/bin/env node
// Measures `modelrun run` of a trivial command on the docker backend against
// `docker run --rm` of the same command in the same image, in one run, and
// checks that neither leaves a container behind. It also prints the floor
// for any Node CLI: Node's own start plus the engine calls alone.
// Usage: node bench/docker.js [runs]   (needs a running engine and the test
// images: test/images/build.sh; build modelrun first with npm run build)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProbe } from './lib/load-probe.js';
import { compare, table } from './lib/measure.js';

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
  const [cli, run, node] = await compare(
    [
      { argv: ['docker', 'run', '--rm', '--init', image, '/bin/sh', '-c', 'true'] },
      { argv: [process.execPath, bin, 'run', 'model.yml', '--backend-config', 'docker.yml'] },
      { argv: [process.execPath, '-e', '0'] },
    ],
    runs,
    options,
  );
  // What no Node program can go below: starting Node, plus the engine's own
  // work for the run, timed from a process that has loaded everything.
  const engine = JSON.parse(
    execFileSync(
      process.execPath,
      [join(root, 'bench', 'lib', 'engine-calls.js'), image, dir, String(runs)],
      { encoding: 'utf8' },
    ),
  );
  const floor = node.ms + engine.ms;
  // A run of an image builds nothing: the build context's tar writer stays unread.
  const tarByRun = loadProbe(
    dir,
    root,
    'tar-stream',
  )([bin, 'run', 'model.yml', '--backend-config', 'docker.yml'], dir);
  const left = execFileSync(
    'docker',
    ['ps', '-aq', '--filter', 'label=modelrun.run_id=bench-docker'],
    { encoding: 'utf8' },
  ).trim();
  console.log(
    `Docker backend, command \`true\` in ${image} (median of ${runs}, Node ${process.version})`,
  );
  const ratio = (ms) => `${(ms / cli.ms).toFixed(2)}x`;
  table(
    ['', 'ms', 'vs docker run'],
    [
      ['docker run --rm --init', cli.ms.toFixed(0), ratio(cli.ms)],
      ['modelrun run (docker)', run.ms.toFixed(0), ratio(run.ms)],
      ['  node -e 0', node.ms.toFixed(0), ratio(node.ms)],
      ['  engine calls, warm process', engine.ms.toFixed(0), ratio(engine.ms)],
      ['  floor for any Node CLI (sum)', floor.toFixed(0), ratio(floor)],
    ],
  );
  console.log(
    `  modelrun run against docker run --rm --init: ${ratio(run.ms)} (target: at most 1.35x; floor ${ratio(floor)})`,
  );
  console.log(`  modelrun above the floor: ${(run.ms - floor).toFixed(0)} ms`);
  console.log(`  containers left behind: ${left === '' ? 'none' : left.split('\n').length}`);
  console.log(`  tar-stream loaded by a run of an image: ${tarByRun ? 'yes' : 'no'}`);
  console.log(
    `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
