import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { reportMissingEngine } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitUntilGone } from './helpers/processes.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/** The first of apptainer and singularity that answers `--version`, if any. */
function findBinary(): string | undefined {
  for (const binary of ['apptainer', 'singularity']) {
    try {
      execFileSync(binary, ['--version'], { stdio: 'pipe', timeout: 10_000 });
      return binary;
    } catch {}
  }
  return undefined;
}

const binary = findBinary();
reportMissingEngine(
  'apptainer',
  binary === undefined ? 'neither apptainer nor singularity is on PATH' : undefined,
);

const DEFINITION = 'Bootstrap: docker\nFrom: busybox:1.36\n';

describe.skipIf(binary === undefined)('the apptainer backend, with the real tool', () => {
  // One image for every test, built once into a cache that outlives each test's tree.
  let cache: Tree;
  let tree: Tree;

  const run = (model: Record<string, unknown>, backend: Record<string, unknown> = {}) =>
    pipelineHarness(
      tree,
      { run_id: uniqueId('apptainer'), command: 'true', ...model },
      { type: 'apptainer', binary, definition: 'model.def', cache_dir: cache.root, ...backend },
    );

  beforeAll(async () => {
    cache = makeTree();
    // Built here, outside the tests' timeouts, which count image work too.
    tree = makeTree({ 'model.def': DEFINITION });
    const { request, deps } = run({});
    const result = await runPipeline(request, { ...deps, timeoutMs: 600_000 });
    tree.remove();
    expect(result.record.status).toBe('succeeded');
  }, 620_000);
  afterEach(() => tree.remove());
  afterAll(() => cache?.remove());

  it('binds a folder, passes an env var, and makes the exit code the run’s', async () => {
    tree = makeTree({ 'model.def': DEFINITION, 'data/input.txt': 'payload\n' });
    const { request, deps, staging, runJson } = run(
      { command: 'cat /data/input.txt > out.txt; echo "$MODE" >> out.txt; exit 3' },
      { binds: ['data:/data:ro'], env_vars: { MODE: 'hindcast' } },
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    expect(readFileSync(join(staging, 'out.txt'), 'utf8')).toBe('payload\nhindcast\n');
    expect(runJson()).toMatchObject({ status: 'failed', exit_code: 3 });
  }, 60_000);

  it('on timeout, stops the model and everything it started', async () => {
    tree = makeTree({ 'model.def': DEFINITION });
    const { request, deps, staging, runJson } = run({
      command: 'sleep 300 & echo $! > pid; wait',
    });
    const result = await runPipeline(request, { ...deps, timeoutMs: 5000, graceMs: 1000 });
    expect(result.exitCode).toBe(1);
    expect(runJson()).toMatchObject({ status: 'timed_out' });
    // Without --containall there is no pid namespace: the pid the model wrote is the host's.
    const pid = Number(readFileSync(join(staging, 'pid'), 'utf8'));
    expect(await waitUntilGone(pid)).toBe(true);
  }, 60_000);
});
