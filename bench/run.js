#!/usr/bin/env node
// Measures `modelrun run` and `modelrun postprocess` against the plain tools
// in the same run: the local backend's overhead against `sh -c true` and
// `node -e 0`, throughput and peak memory while a model prints a lot against
// `sh -c '... > file'`, and the archive postprocessor against `tar czf`. It
// also checks that every byte the model printed reached stdout.log, and that
// modelrun's memory stays flat.
// Usage: node bench/run.js [--quick] [overhead] [memory] [archive]
//   --quick or BENCH_QUICK=1   small sizes, a smoke run of a few seconds
//   BENCH_RUNS=7               runs of the trivial command (median)
//   BENCH_OUTPUT_MB=200,500    output sizes, in MB, for throughput and memory (the
//                              last one is the throughput figure; Node's heap settles
//                              by about 64 MiB, smaller sizes look like growth)
//   BENCH_OUTPUT_RUNS=3        runs per output size (median)
//   BENCH_ARCHIVE_MIB=200      size of the tree to archive
//   BENCH_ARCHIVE_RUNS=3       archive runs (median)
// Build first (npm run build): this runs the built CLI, bin/modelrun.js.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, interrupt, rssMethod, table } from './lib/measure.js';
import { makeTree } from './lib/tree.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'modelrun.js');
const MiB = 1024 * 1024;
const MB = 1e6;

const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const sections = args.filter((arg) => !arg.startsWith('--'));
const wanted = (name) => sections.length === 0 || sections.includes(name);
const setting = (name, full, small) => process.env[name] ?? (quick ? small : full);
const runs = Number(setting('BENCH_RUNS', '7', '3'));
const outputSizes = setting('BENCH_OUTPUT_MB', '200,500', '32,128').split(',').map(Number);
const outputRuns = Number(setting('BENCH_OUTPUT_RUNS', '3', '1'));
const archiveMiB = Number(setting('BENCH_ARCHIVE_MIB', '200', '16'));
const archiveRuns = Number(setting('BENCH_ARCHIVE_RUNS', '3', '1'));

const fmt = (value, digits = 0) => value.toFixed(digits);
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

const modelrun = (...rest) => [process.execPath, bin, ...rest];

async function overhead(dir) {
  const work = join(dir, 'overhead');
  mkdirSync(work);
  writeFileSync(join(work, 'model.yml'), 'run_id: bench\ncommand: "true"\n');
  const options = { cwd: work, rssFile: join(work, 'rss') };
  const [sh, node, run, dry] = await compare(
    [
      { argv: ['sh', '-c', 'true'] },
      { argv: [process.execPath, '-e', '0'] },
      { argv: modelrun('run', 'model.yml') },
      { argv: modelrun('run', '--dry-run', 'model.yml') },
    ],
    runs,
    options,
  );
  console.log(`\n1. Local backend, command \`true\` (median of ${runs})`);
  table(
    ['', 'ms', 'vs sh -c', 'vs node -e 0'],
    [
      ['sh -c true', fmt(sh.ms, 1), '1.00x', ratio(sh.ms, node.ms)],
      ['node -e 0 (Node start-up)', fmt(node.ms, 1), ratio(node.ms, sh.ms), '1.00x'],
      ['modelrun run --dry-run', fmt(dry.ms, 1), ratio(dry.ms, sh.ms), ratio(dry.ms, node.ms)],
      ['modelrun run', fmt(run.ms, 1), ratio(run.ms, sh.ms), ratio(run.ms, node.ms)],
    ],
  );
  console.log(
    `  modelrun run against node -e 0: ${ratio(run.ms, node.ms)} (target: at most 2.50x)`,
  );
  console.log(`  overhead of modelrun run over sh -c: ${fmt(run.ms - sh.ms)} ms`);
  console.log(
    `    of which Node start-up ${fmt(node.ms - sh.ms)} ms, loading, validating and staging ${fmt(dry.ms - node.ms)} ms, running and recording ${fmt(run.ms - dry.ms)} ms`,
  );
}

async function memory(dir) {
  const work = join(dir, 'memory');
  mkdirSync(work);
  const options = { cwd: work, rssFile: join(work, 'rss') };
  // 100-byte lines; `yes` is far faster than either contender can write.
  const generator = (bytes) => `yes ${'x'.repeat(99)} | head -c ${bytes}`;
  const rows = [];
  const short = [];
  // No output at all first: modelrun's own floor, for the rows after it.
  for (const size of [0, ...outputSizes]) {
    const bytes = size * MB;
    const runId = `out-${size}`;
    const log = join(work, 'simulations', runId, 'logs', 'stdout.log');
    writeFileSync(
      join(work, `${runId}.yml`),
      `run_id: ${runId}\ncommand: ${JSON.stringify(generator(bytes))}\n`,
    );
    const checked = (echo) => () => {
      const logged = statSync(log).size;
      rmSync(join(work, 'simulations', runId), { recursive: true });
      // A short log or echo is a bug to report, but the timings still stand.
      if (logged !== bytes) short.push(`${size} MB run: ${bytes - logged} bytes missing`);
      if (echo !== undefined) {
        const echoed = statSync(join(work, echo)).size;
        rmSync(join(work, echo));
        if (echoed !== bytes) short.push(`${size} MB echo: ${bytes - echoed} bytes missing`);
      }
    };
    const [plain, ours, toFile] = await compare(
      [
        {
          argv: ['sh', '-c', `${generator(bytes)} > plain.out`],
          after: () => rmSync(join(work, 'plain.out')),
        },
        { argv: modelrun('run', `${runId}.yml`), after: checked() },
        {
          // The echo kept too, as by `modelrun run m.yml > run.out 2> run.err`.
          argv: [
            'sh',
            '-c',
            `exec "$@" > echo.out 2> echo.err`,
            'sh',
            ...modelrun('run', `${runId}.yml`),
          ],
          after: checked('echo.out'),
        },
      ],
      outputRuns,
      options,
    );
    rows.push({ size, bytes, plain, ours, toFile });
  }
  /** MB/s of the output itself: the time of the run without output taken off. */
  const streaming = (bytes, ms, none) => mbps(bytes, ms - none);
  console.log(
    `\n2. Output: the model prints to stdout; modelrun logs it and echoes it to /dev/null, or to a file (median time of ${outputRuns}, highest peak RSS)`,
  );
  const [none] = rows;
  table(
    [
      'output',
      'sh -c > file',
      'modelrun run',
      'ratio',
      'sh MB/s',
      'modelrun MB/s',
      'beyond start-up',
      'ratio',
      'echo to a file',
      'ratio',
    ],
    rows.map(({ size, bytes, plain, ours, toFile }) => [
      size === 0 ? 'none' : `${size} MB`,
      `${fmt(plain.rssKiB / 1024, 1)} MiB`,
      `${fmt(ours.rssKiB / 1024, 1)} MiB`,
      ratio(ours.rssKiB, plain.rssKiB),
      size === 0 ? '-' : fmt(mbps(bytes, plain.ms)),
      size === 0 ? '-' : fmt(mbps(bytes, ours.ms)),
      size === 0 ? '-' : `${fmt(streaming(bytes, ours.ms, none.ours.ms))} MB/s`,
      size === 0 ? '-' : ratio(streaming(bytes, ours.ms, none.ours.ms), mbps(bytes, plain.ms)),
      size === 0 ? '-' : `${fmt(streaming(bytes, toFile.ms, none.toFile.ms))} MB/s`,
      size === 0 ? '-' : ratio(streaming(bytes, toFile.ms, none.toFile.ms), mbps(bytes, plain.ms)),
    ]),
  );
  const peaks = rows.filter((row) => row.size > 0).map((row) => row.ours.rssKiB);
  const growth = Math.max(...peaks) / Math.min(...peaks);
  const flat = growth < 1.25;
  const last = rows.at(-1);
  const against = (name) =>
    ratio(streaming(last.bytes, last[name].ms, none[name].ms), mbps(last.bytes, last.plain.ms));
  console.log(
    `  throughput at ${last.size} MB against sh -c '... > file', beyond start-up: ${against('ours')} echoed to /dev/null, ${against('toFile')} echoed to a file (target: at least 0.80x)`,
  );
  console.log(
    `  the whole run, start-up included: ${ratio(mbps(last.bytes, last.ours.ms), mbps(last.bytes, last.plain.ms))}`,
  );
  console.log(
    `  modelrun peak RSS from ${outputSizes[0]} to ${outputSizes.at(-1)} MB of output: ${growth.toFixed(2)}x (${flat ? 'flat: output is streamed' : 'GROWS with the output'})`,
  );
  console.log(`  peak RSS measured with ${rssMethod}`);
  for (const line of short) console.log(`  WARNING: stdout.log is short: ${line}`);
  if (!flat || short.length > 0) process.exitCode = 1;
}

function archivedFiles(archive) {
  const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8', maxBuffer: 64 * MiB });
  return listing.split('\n').filter((line) => line !== '' && !line.endsWith('/')).length;
}

async function archive(dir) {
  const work = join(dir, 'archive');
  const staging = join(work, 'simulations', 'arch');
  mkdirSync(staging, { recursive: true });
  const tree = makeTree(join(staging, 'data'), archiveMiB);
  writeFileSync(join(work, 'model.yml'), 'run_id: arch\ncommand: "true"\n');
  // postprocess works on a run that exists: make it one, as a user would.
  const [node, ...args] = modelrun('run', 'model.yml', '--no-postprocess');
  execFileSync(node, args, { cwd: work, stdio: 'ignore' });
  const ours = join(work, 'modelrun.tar.gz');
  const plain = join(work, 'tar.tar.gz');
  // Only the data, as tar packs: not the run's logs.
  writeFileSync(
    join(work, 'archive.yml'),
    `type: archive\ninclude: ["data/**"]\ndestination: ${JSON.stringify(ours)}\n`,
  );
  const sizes = {};
  const keep = (path, name) => () => {
    // Listing a large archive takes a while; its file count is checked once.
    sizes[name] = { bytes: statSync(path).size, files: sizes[name]?.files ?? archivedFiles(path) };
    rmSync(path);
  };
  const [tar, run] = await compare(
    [
      { argv: ['tar', 'czf', plain, '-C', staging, 'data'], after: keep(plain, 'tar') },
      {
        argv: modelrun('postprocess', 'model.yml', '--postprocessor-config', 'archive.yml'),
        after: keep(ours, 'modelrun'),
      },
    ],
    archiveRuns,
    { cwd: work, rssFile: join(work, 'rss') },
  );
  console.log(
    `\n3. Archive: ${fmt(tree.bytes / MiB)} MiB in ${tree.files} files, tar.gz (median of ${archiveRuns})`,
  );
  table(
    ['', 's', 'MB/s', 'archive', 'files', 'peak RSS', 'vs tar'],
    [
      ['tar czf', tar, sizes.tar],
      ['modelrun postprocess (archive)', run, sizes.modelrun],
    ].map(([name, result, size]) => [
      name,
      fmt(result.ms / 1000, 2),
      fmt(mbps(tree.bytes, result.ms)),
      `${fmt(size.bytes / MiB, 1)} MiB`,
      size.files,
      `${fmt(result.rssKiB / 1024, 1)} MiB`,
      ratio(result.ms, tar.ms),
    ]),
  );
  if (sizes.tar.files !== tree.files || sizes.modelrun.files !== tree.files)
    throw new Error(
      `archives hold ${sizes.tar.files} and ${sizes.modelrun.files} files, not ${tree.files}`,
    );
}

/** The newest modification time under dist/, to tell whether it was rebuilt during the run. */
function distBuiltAt() {
  const dist = join(root, 'dist');
  const times = readdirSync(dist, { recursive: true }).map(
    (name) => statSync(join(dist, name)).mtimeMs,
  );
  return Math.max(...times);
}

const dir = mkdtempSync(join(tmpdir(), 'modelrun-bench-'));
// Ctrl-C skips `finally`; a gigabyte log must not be left behind in /tmp. The
// process being measured is stopped first, so that it cannot write on after.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await interrupt();
    rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}
try {
  console.log(
    `node ${process.version}, ${availableParallelism()} CPUs${quick ? ', quick sizes' : ''}; MB = 10^6 bytes`,
  );
  const builtAt = distBuiltAt();
  if (wanted('overhead')) await overhead(dir);
  if (wanted('memory')) await memory(dir);
  if (wanted('archive')) await archive(dir);
  // Someone running the build meanwhile would leave figures from two builds.
  if (distBuiltAt() !== builtAt)
    console.log('\nwarning: dist/ was rebuilt during the run; run again');
  const git = (...rest) => execFileSync('git', rest, { cwd: root, encoding: 'utf8' }).trim();
  const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json') !== '';
  console.log(
    `\ncommit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' (with uncommitted changes)' : ''}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
