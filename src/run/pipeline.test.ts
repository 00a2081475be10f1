import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineHarness } from '../../test/helpers/pipeline.js';
import { waitUntilGone } from '../../test/helpers/processes.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import type { StopReason } from '../exec/stop-reason.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { runPipeline } from './pipeline.js';

let tree: Tree;
afterEach(() => tree?.remove());

/** A local run through the library API, in a fresh tree holding `files`. */
function setup(
  model: Record<string, unknown>,
  backend: Record<string, unknown> = {},
  files: Record<string, string> = {},
) {
  tree = makeTree(files);
  const harness = pipelineHarness(tree, model, { type: 'local', ...backend });
  harness.deps.graceMs = 500;
  return { ...harness, echoed: harness.captured };
}

/** Waits until `check` holds, for at most `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(25);
  }
  return check();
}

describe('a local run', () => {
  it('succeeds, keeps both streams in the logs and echoes them live', async () => {
    const { request, deps, echoed, staging, runJson } = setup({
      command: 'echo out; echo err >&2',
    });
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(`${staging}/logs/stdout.log`, 'utf8')).toBe('out\n');
    expect(readFileSync(`${staging}/logs/stderr.log`, 'utf8')).toBe('err\n');
    expect(echoed.stdout).toBe('out\n');
    expect(echoed.stderr).toMatch(/err\n$/);
    expect(runJson()).toMatchObject({
      run_id: 'r1',
      status: 'succeeded',
      exit_code: 0,
      stages: {
        generate: { status: 'succeeded' },
        run: { status: 'succeeded' },
        postprocess: { status: 'skipped' },
      },
      backend: { type: 'local' },
      modelrun_version: expect.any(String),
    });
    expect(runJson().duration_s).toEqual(expect.any(Number));
  });

  it('propagates the exit code: a model that exits 3 fails with exit_code 3', async () => {
    const { request, deps, runJson } = setup({ command: 'echo broken >&2; exit 3' });
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(1);
    expect(result.stderrTail).toEqual(['broken']);
    expect(runJson()).toMatchObject({
      status: 'failed',
      exit_code: 3,
      stages: { run: { status: 'failed', detail: 'exited 3' } },
    });
  });

  it('reports a model killed by a signal with its name, never as success', async () => {
    const { request, deps, runJson } = setup({ command: 'kill -KILL $$' });
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(1);
    expect(runJson()).toMatchObject({
      status: 'failed',
      exit_code: null,
      signal: 'SIGKILL',
      stages: { run: { detail: 'killed by SIGKILL' } },
    });
  });

  it('runs without a shell when shell is false, and in working_dir', async () => {
    // realpath resolves each argument against its working directory: a
    // shell would expand $HOME, and another directory would show.
    const { request, deps, staging } = setup(
      { command: 'realpath "a b" $HOME' },
      { shell: false, working_dir: 'wd' },
      { 'wd/': '' },
    );
    await runPipeline(request, deps);
    const wd = realpathSync(tree.path('wd'));
    expect(readFileSync(`${staging}/logs/stdout.log`, 'utf8')).toBe(`${wd}/a b\n${wd}/$HOME\n`);
  });

  it('passes env_vars on top of the host environment, and masks secrets in run.json', async () => {
    const { request, deps, staging, runJson } = setup(
      { command: 'echo "$MODE $API_TOKEN $HOME"' },
      { env_vars: { MODE: 'hindcast', API_TOKEN: 'tok-123456' } },
    );
    await runPipeline(request, deps);
    expect(readFileSync(`${staging}/logs/stdout.log`, 'utf8')).toBe(
      `hindcast tok-123456 ${process.env.HOME}\n`,
    );
    const text = readFileSync(`${staging}/.modelrun/run.json`, 'utf8');
    expect(text).not.toContain('tok-123456');
    expect(runJson().backend.config.env_vars).toEqual({ MODE: 'hindcast', API_TOKEN: '***' });
  });
});

describe('secrets that read like what modelrun writes itself', () => {
  it('leave the status, type and paths in run.json intact, during the run and after', async () => {
    const { request, deps, staging, runJson } = setup(
      { command: 'cp .modelrun/run.json during.json' },
      { env_vars: { MY_TOKEN: 'running', MY_KEY: 'local', MY_SECRET: 'succeeded' } },
    );
    deps.redactor.addEnv({ WHERE_TOKEN: staging });
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(0);
    const during = JSON.parse(readFileSync(`${staging}/during.json`, 'utf8'));
    expect(during).toMatchObject({ status: 'running', backend: { type: 'local' } });
    const after = runJson();
    expect(after).toMatchObject({
      status: 'succeeded',
      staging_dir: staging,
      backend: {
        type: 'local',
        config: {
          type: 'local',
          env_vars: { MY_TOKEN: '***', MY_KEY: '***', MY_SECRET: '***' },
        },
      },
      stages: { run: { status: 'succeeded' } },
    });
    expect(result.record).toMatchObject({ status: 'succeeded', staging_dir: staging });
  });
});

describe('postprocessing', () => {
  const post = (config: Record<string, unknown>) =>
    postprocessorSchema(diskPathContext(tree.root)).parse(config) as PostprocessorConfig;

  it('marks the run failed when a postprocessor fails, keeps the outputs, and runs the rest', async () => {
    const { request, deps, staging, runJson } = setup({ command: 'echo result > out.txt' });
    request.postprocessors = [
      post({ type: 'command', command: 'exit 4' }),
      post({ type: 'checksum' }),
    ];
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(1);
    expect(readFileSync(`${staging}/out.txt`, 'utf8')).toBe('result\n');
    expect(runJson()).toMatchObject({
      status: 'failed',
      reason: 'postprocessing failed: command',
      stages: { run: { status: 'succeeded' }, postprocess: { status: 'failed' } },
      postprocess: [
        { type: 'command', status: 'failed' },
        { type: 'checksum', status: 'succeeded' },
      ],
    });
  });

  it('skips the rest after a failure with stop_on_error', async () => {
    const { request, deps, runJson } = setup({ command: 'true' });
    request.postprocessors = [
      post({ type: 'command', command: 'exit 4', stop_on_error: true }),
      post({ type: 'checksum' }),
    ];
    await runPipeline(request, deps);
    expect(runJson().postprocess).toEqual([
      expect.objectContaining({ type: 'command', status: 'failed' }),
      expect.objectContaining({
        type: 'checksum',
        status: 'skipped',
        summary: 'skipped after an earlier failure (stop_on_error)',
      }),
    ]);
  });

  it("masks a command postprocessor's secrets in its summary and run.json", async () => {
    const { request, deps, staging, runJson } = setup({ command: 'true' });
    request.postprocessors = [
      post({
        type: 'command',
        command: 'echo "bad token $PLOT_TOKEN" >&2; exit 3',
        env_vars: { PLOT_TOKEN: 'plot-5f0c9e21' },
      }),
    ];
    const result = await runPipeline(request, deps);
    expect(result.exitCode).toBe(1);
    expect(result.record.postprocess[0]?.summary).toMatch(/exited 3: bad token \*\*\*$/);
    expect(readFileSync(`${staging}/.modelrun/run.json`, 'utf8')).not.toContain('plot-5f0c9e21');
    expect(runJson().postprocess[0].summary).toMatch(/bad token \*\*\*$/);
  });

  it('does not postprocess a failed run', async () => {
    const { request, deps, staging, runJson } = setup({ command: 'exit 2' });
    request.postprocessors = [post({ type: 'checksum' })];
    await runPipeline(request, deps);
    expect(runJson().stages.postprocess.status).toBe('skipped');
    expect(existsSync(`${staging}/SHA256SUMS`)).toBe(false);
  });
});

describe('stopping a run', () => {
  it('on timeout, kills the whole process group: no grandchild survives', async () => {
    const { request, deps, staging, runJson } = setup({
      // A child that starts a grandchild, both recording their pids.
      command: `sh -c 'sleep 300 & echo $! > grandchild.pid; wait' & echo $! > child.pid; wait`,
    });
    const result = await runPipeline(request, { ...deps, timeoutMs: 1000 });
    expect(result.exitCode).toBe(1);
    expect(runJson()).toMatchObject({
      status: 'timed_out',
      reason: 'timed out after 1 s',
      stages: { run: { status: 'failed' } },
    });
    const pids = ['child.pid', 'grandchild.pid'].map((f) =>
      Number(readFileSync(`${staging}/${f}`, 'utf8')),
    );
    for (const pid of pids) expect(await waitUntilGone(pid)).toBe(true);
  });

  it('kills a model that ignores SIGTERM once the grace period is over', async () => {
    const { request, deps, runJson } = setup({
      command: `trap '' TERM; sleep 300 & wait; sleep 300`,
    });
    const started = Date.now();
    await runPipeline(request, { ...deps, timeoutMs: 500 });
    expect(runJson().status).toBe('timed_out');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('on interrupt, stops the model, records cancelled and keeps the logs', async () => {
    const { request, deps, session, staging, runJson } = setup({
      command: 'echo started; sleep 300',
    });
    const running = runPipeline(request, deps);
    await eventually(
      () =>
        existsSync(`${staging}/logs/stdout.log`) &&
        readFileSync(`${staging}/logs/stdout.log`, 'utf8') !== '',
    );
    session.interrupt('SIGINT');
    const result = await running;
    expect(result.exitCode).toBe(130);
    expect(runJson()).toMatchObject({ status: 'cancelled', reason: 'cancelled by SIGINT' });
    expect(readFileSync(`${staging}/logs/stdout.log`, 'utf8')).toBe('started\n');
    expect(session.cleanup.pending()).toEqual([]);
  });

  it('maps SIGTERM to exit code 143', async () => {
    const { request, deps, session, staging } = setup({ command: 'echo started; sleep 300' });
    const running = runPipeline(request, deps);
    const log = `${staging}/logs/stdout.log`;
    await eventually(() => existsSync(log) && readFileSync(log, 'utf8') !== '');
    session.interrupt('SIGTERM');
    expect((await running).exitCode).toBe(143);
    expect((session.signal.reason as StopReason).kind).toBe('interrupt');
  });
});

describe('the staging directory', () => {
  it('refuses a second concurrent run into it, and never interleaves the two', async () => {
    const first = setup({ command: 'sleep 1' });
    const running = runPipeline(first.request, first.deps);
    await eventually(() => existsSync(`${first.staging}/.modelrun/run.json`));
    await expect(runPipeline(first.request, first.deps)).rejects.toThrow(
      /another modelrun is using .*simulations\/r1 \(pid \d+ on /,
    );
    expect((await running).exitCode).toBe(0);
    // The lock is released afterwards, so the next run goes ahead.
    expect((await runPipeline(first.request, first.deps)).exitCode).toBe(0);
  });

  it('with --skip-generate, requires an existing, non-empty staging dir', async () => {
    const { request, deps, staging } = setup({ command: 'true' });
    const skipping = { ...request, skipGenerate: true };
    await expect(runPipeline(skipping, deps)).rejects.toThrow(
      /--skip-generate: the staging directory .* is missing/,
    );
    mkdirSync(`${staging}/.modelrun`, { recursive: true });
    await expect(runPipeline(skipping, deps)).rejects.toThrow(
      /--skip-generate: the staging directory .* is empty/,
    );
    writeFileSync(`${staging}/input.txt`, 'staged');
    expect((await runPipeline(skipping, deps)).record.stages.generate.status).toBe('skipped');
  });

  it('with --cleanup-on-failure, removes the staging dir of a failed run', async () => {
    const { request, deps, staging } = setup({ command: 'exit 1' });
    const result = await runPipeline({ ...request, cleanupOnFailure: true }, deps);
    expect(result.exitCode).toBe(1);
    expect(existsSync(staging)).toBe(false);
  });

  it('stages the template, and a dry run describes the run without running it', async () => {
    const { request, deps, staging } = setup(
      { command: 'touch ran', template: 'tpl', config: { n: 3 } },
      { env_vars: { SECRET_KEY: 'abcdef12' } },
      { 'tpl/input.txt': 'n={{ config.n }}\n' },
    );
    const result = await runPipeline({ ...request, dryRun: true }, deps);
    expect(result.exitCode).toBe(0);
    expect(existsSync(`${staging}/ran`)).toBe(false);
    expect(result.dryRun?.lines).toContainEqual(['shell command', '/bin/sh -c "touch ran"']);
    expect(result.dryRun?.lines).toContainEqual(['  SECRET_KEY', '***']);
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(`${staging}/input.txt`, 'utf8')).toBe('n=3\n');
  });
});
