import { randomUUID } from 'node:crypto';
import { cpSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { REPO_ROOT, runModelrun, startModelrun } from './helpers/cli.js';
import { dockerUnavailable, ensureTestImages, reportMissingEngine } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitForGuardian } from './helpers/run-record.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const missing = dockerUnavailable();
reportMissingEngine('docker', missing);

const BUSYBOX = 'modelrun-test/busybox';
const NODE = 'modelrun-test/node';
const docker = new Docker();

/**
 * Containers modelrun left for a run id, running or not. Every run id here
 * has a random part: another checkout may run these tests on the same engine.
 */
async function containersOf(runId: string) {
  return docker.listContainers({ all: true, filters: { label: [`modelrun.run_id=${runId}`] } });
}

describe.skipIf(missing !== undefined)('the docker backend, against a real engine', () => {
  let tree: Tree;
  beforeAll(() => ensureTestImages(), 300_000);
  afterEach(() => tree?.remove());
  const busybox = (more: Record<string, unknown> = {}) => ({
    type: 'docker',
    image: BUSYBOX,
    pull_policy: 'never',
    ...more,
  });

  it('gives the container the configured cpu, memory, user, binds, env, network and labels', async () => {
    const runId = uniqueId('inspect-me');
    tree = makeTree({ 'data/input.txt': 'x' });
    const { request, deps, staging } = pipelineHarness(
      tree,
      { run_id: runId, command: 'true' },
      busybox({
        cpu: 1,
        memory: '128m',
        shm_size: '32m',
        user: '1234:1234',
        volumes: ['data:/data:ro'],
        env_vars: { MODE: 'hindcast' },
        network: 'none',
        remove_container: false,
      }),
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    const [found] = await containersOf(runId);
    expect(found).toBeDefined();
    const info = await docker.getContainer(found?.Id ?? '').inspect();
    await docker.getContainer(info.Id).remove({ force: true });
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 1e9,
      Memory: 128 * 1024 ** 2,
      MemorySwap: 128 * 1024 ** 2,
      ShmSize: 32 * 1024 ** 2,
      NetworkMode: 'none',
      Init: true,
      AutoRemove: false,
    });
    expect(info.HostConfig.Binds).toEqual([
      `${staging}:/app/run:rw`,
      `${tree.path('data')}:/data:ro`,
    ]);
    expect(info.Config.User).toBe('1234:1234');
    expect(info.Config.WorkingDir).toBe('/app/run');
    expect(info.Config.Env).toContain('MODE=hindcast');
    expect(info.Config.Labels).toMatchObject({
      'modelrun.run_id': runId,
      'modelrun.staging_dir': staging,
    });
    expect(info.Config.Labels['modelrun.version']).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('runs as the invoking user by default, so outputs are yours, and removes the container', async () => {
    const runId = uniqueId('mine');
    tree = makeTree();
    const { request, deps, staging, runJson } = pipelineHarness(
      tree,
      { run_id: runId, command: 'id -u > uid.txt; echo made > out.txt' },
      busybox(),
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'uid.txt'), 'utf8').trim()).toBe(String(process.getuid?.()));
    expect(statSync(join(staging, 'out.txt')).uid).toBe(process.getuid?.());
    expect(runJson()).toMatchObject({ status: 'succeeded', exit_code: 0 });
    expect(await containersOf(runId)).toEqual([]);
  });

  it('streams both output streams into the logs, demultiplexed', async () => {
    tree = makeTree();
    const { request, deps, staging, captured } = pipelineHarness(
      tree,
      { run_id: uniqueId('streams'), command: 'echo out; echo err >&2; seq 1 20000' },
      busybox(),
    );
    await runPipeline(request, deps);
    const stdout = readFileSync(join(staging, 'logs', 'stdout.log'), 'utf8');
    expect(stdout.startsWith('out\n1\n2\n')).toBe(true);
    expect(stdout.endsWith('19999\n20000\n')).toBe(true);
    expect(readFileSync(join(staging, 'logs', 'stderr.log'), 'utf8')).toBe('err\n');
    expect(captured.stdout.length).toBeGreaterThan(0);
  });

  it("makes the container's exit code the run's", async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('exit'), command: 'exit 3' },
      busybox(),
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    expect(runJson()).toMatchObject({ status: 'failed', exit_code: 3 });
  });

  it('reports a container killed for memory as out of memory, never as success', async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('oom'), command: 'dd if=/dev/zero of=/dev/null bs=256M count=1' },
      busybox({ memory: '32m' }),
    );
    expect((await runPipeline(request, deps)).exitCode).toBe(1);
    // Confirmed by the engine, or (when the engine lost its report) named the likely cause.
    expect(runJson()).toMatchObject({
      status: 'failed',
      exit_code: 137,
      signal: 'SIGKILL',
      reason: expect.stringMatching(/out of memory \(limit 32m\)/),
    });
  });

  it('on timeout, stops the container and leaves none behind', async () => {
    const runId = uniqueId('too-slow');
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: runId, command: 'sleep 300' },
      busybox(),
    );
    const result = await runPipeline(request, { ...deps, timeoutMs: 1500, graceMs: 2000 });
    expect(result.exitCode).toBe(1);
    expect(runJson()).toMatchObject({ status: 'timed_out' });
    expect(await containersOf(runId)).toEqual([]);
  });

  it('keeps a stopped container with remove_container: false, but never a running one', async () => {
    const runId = uniqueId('keep-me');
    tree = makeTree();
    const { request, deps } = pipelineHarness(
      tree,
      { run_id: runId, command: 'sleep 300' },
      busybox({ remove_container: false }),
    );
    await runPipeline(request, { ...deps, timeoutMs: 1000, graceMs: 1000 });
    const left = await containersOf(runId);
    expect(left.map((c) => c.State)).toEqual(['exited']);
    await docker.getContainer(left[0]?.Id ?? '').remove({ force: true });
  });

  it('builds from a Dockerfile with build args, and reuses the image while nothing changed', async () => {
    tree = makeTree({
      // A comment unique to this test run, so that no image from an earlier run matches.
      'ctx/Dockerfile': `# ${randomUUID()}\nFROM ${BUSYBOX}\nARG GREETING=hello\nRUN echo "$GREETING" > /greeting\nCOPY data.txt /data.txt\n`,
      'ctx/data.txt': 'payload\n',
    });
    const backend = busybox({
      image: undefined,
      dockerfile: 'ctx/Dockerfile',
      build_args: { GREETING: 'howdy' },
    });
    const first = pipelineHarness(
      tree,
      { run_id: uniqueId('built'), command: 'cat /greeting /data.txt' },
      backend,
    );
    expect((await runPipeline(first.request, first.deps)).exitCode).toBe(0);
    expect(readFileSync(join(first.staging, 'logs', 'stdout.log'), 'utf8')).toBe(
      'howdy\npayload\n',
    );
    expect(
      first.captured.status.some((line) => /^building modelrun-[0-9a-f]{12} /.test(line)),
    ).toBe(true);

    const second = pipelineHarness(
      tree,
      { run_id: uniqueId('rebuilt'), command: 'cat /greeting' },
      backend,
    );
    await runPipeline(second.request, second.deps);
    expect(
      second.captured.status.some((line) =>
        /^using modelrun-[0-9a-f]{12}, already built/.test(line),
      ),
    ).toBe(true);
    expect(second.captured.status.some((line) => line.startsWith('building'))).toBe(false);
    const tag = /^using (modelrun-[0-9a-f]{12})/.exec(
      second.captured.status.find((l) => l.startsWith('using')) ?? '',
    )?.[1];
    await docker.getImage(tag ?? '').remove();
  });

  it('fails a broken build with the failing step and its message, and exits 1', async () => {
    const runId = uniqueId('broken-build');
    // Through the built CLI, so that the bundle's build path is tested too.
    tree = makeTree({
      Dockerfile: `FROM ${BUSYBOX}\nRUN echo fine\nRUN exit 3\n`,
      'model.yml': `run_id: ${runId}\ncommand: "true"\n`,
      'docker.yml': 'type: docker\ndockerfile: Dockerfile\npull_policy: never\n',
    });
    const result = await runModelrun(['run', 'model.yml', '--backend-config', 'docker.yml'], {
      cwd: tree.root,
    });
    expect(result.stderr).toMatch(
      /building the image from .*Dockerfile failed at Step 3\/\d+ : RUN exit 3: The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/,
    );
    expect(result.code).toBe(1);
    expect(await containersOf(runId)).toEqual([]);
  });

  it('fails clearly with pull_policy: never and a missing image, creating no container', async () => {
    const runId = uniqueId('never');
    tree = makeTree();
    const { request, deps } = pipelineHarness(
      tree,
      { run_id: runId, command: 'true' },
      { type: 'docker', image: 'modelrun-test/absent:1', pull_policy: 'never' },
    );
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /the image modelrun-test\/absent:1 is not on the Docker engine .* and pull_policy is never/,
    );
    expect(await containersOf(runId)).toEqual([]);
  });

  it('fails a pull of an image no registry has, from the error inside the progress stream', async () => {
    tree = makeTree();
    const { request, deps } = pipelineHarness(
      tree,
      { run_id: uniqueId('no-registry'), command: 'true' },
      { type: 'docker', image: 'localhost:1/modelrun/absent:1', pull_policy: 'always' },
    );
    await expect(runPipeline(request, deps)).rejects.toThrow(
      /pulling localhost:1\/modelrun\/absent:1 failed: /,
    );
  });

  it('runs the example wave model unchanged, in the Node image', async () => {
    tree = makeTree({ 'docker.yml': `type: docker\nimage: ${NODE}\npull_policy: never\n` });
    cpSync(join(REPO_ROOT, 'examples', 'wave'), tree.path('wave'), {
      recursive: true,
      filter: (src) => !src.includes('simulations'),
    });
    const result = await runModelrun(['run', 'wave/model.yml', '--backend-config', 'docker.yml'], {
      cwd: tree.root,
    });
    expect(result.stderr).toContain('✓ wave-demo succeeded');
    expect(result.code).toBe(0);
    const summary = JSON.parse(
      readFileSync(tree.path('wave', 'simulations', 'wave-demo', 'output', 'summary.json'), 'utf8'),
    );
    expect(summary.steps).toBeGreaterThan(0);
  });

  it('on Ctrl-C, stops and removes the container, records cancelled and exits 130', async () => {
    const runId = uniqueId('interrupt-me');
    tree = makeTree({
      'model.yml': `run_id: ${runId}\ncommand: "echo started; sleep 300"\n`,
      'docker.yml': `type: docker\nimage: ${BUSYBOX}\npull_policy: never\n`,
    });
    const { child, exited } = await startModelrun(
      ['run', 'model.yml', '--backend-config', 'docker.yml'],
      { cwd: tree.root },
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await containersOf(runId)).toEqual([]);
    const record = JSON.parse(
      readFileSync(tree.path('simulations', runId, '.modelrun', 'run.json'), 'utf8'),
    );
    expect(record).toMatchObject({ status: 'cancelled', reason: 'cancelled by SIGINT' });
  });

  it('killed with SIGKILL, still leaves no container behind: its guardian removes it', async () => {
    const runId = uniqueId('killed-hard');
    tree = makeTree({
      'model.yml': `run_id: ${runId}\ncommand: "echo started; sleep 300"\n`,
      'docker.yml': `type: docker\nimage: ${BUSYBOX}\npull_policy: never\n`,
    });
    const { child, exited } = await startModelrun(
      ['run', 'model.yml', '--backend-config', 'docker.yml'],
      { cwd: tree.root },
    );
    expect(await containersOf(runId)).toHaveLength(1);
    child.kill('SIGKILL');
    await exited;
    let left = await containersOf(runId);
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await containersOf(runId);
    }
    expect(left).toEqual([]);
    expect(await waitForGuardian(tree.path('simulations', runId))).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^modelrun ended before the run did/),
    });
  });

  it('backends list reports the engine and its version', async () => {
    const result = await runModelrun(['backends', 'list', '--json']);
    const { backends } = JSON.parse(result.stdout) as {
      backends: { type: string; available: boolean; detail: string }[];
    };
    expect(backends.find((b) => b.type === 'docker')).toMatchObject({
      available: true,
      detail: expect.stringMatching(
        /^Docker Engine \d+\.\d+\.\d+\S* \(API \d+\.\d+\) at unix:\/\/\/var\/run\/docker\.sock$/,
      ),
    });
  });
});

describe('an unreachable Docker engine', () => {
  let tree: Tree;
  afterAll(() => tree?.remove());

  it('fails before anything is staged or created, naming the address, and exits 1', async () => {
    tree = makeTree({
      'model.yml': 'run_id: nowhere\ncommand: "true"\n',
      'docker.yml': 'type: docker\nimage: busybox\n',
    });
    const result = await runModelrun(['run', 'model.yml', '--backend-config', 'docker.yml'], {
      cwd: tree.root,
      env: { DOCKER_HOST: `unix://${tree.path('no-engine.sock')}` },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: Cannot reach the Docker engine at unix://${tree.path('no-engine.sock')}: is dockerd running?`,
    );
    expect(result.stderr).toMatch(/hint: start it/);
    expect(() => statSync(tree.path('simulations'))).toThrow();
  });
});
