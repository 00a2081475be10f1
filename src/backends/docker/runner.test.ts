import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDocker, type FakeDockerOptions, frame } from '../../../test/helpers/fake-docker.js';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { EngineUnavailableError, RunFailedError } from '../../errors.js';
import type { RunOutput } from '../../exec/run-output.js';
import { Holdings, handlersFor } from '../../run/holdings.js';
import type { BackendRunner, RunJob } from '../contract.js';
import { dockerConfigSchema } from './config.js';
import { dockerBackend } from './index.js';
import { createDockerRunner } from './runner.js';

const tree = makeTree({ 'staging/': '' });
afterAll(() => tree.remove());

const IMAGE = 'busybox:1.36';
const JOB: RunJob = {
  runId: '20240101-120000-abcd',
  stagingDir: tree.path('staging'),
  modelCommand: 'sh run.sh',
};

interface Setup {
  config?: Record<string, unknown>;
  engine?: FakeDockerOptions;
  graceMs?: number;
}

/** A runner on a fake engine, with its config parsed as the loader would, defaults and all. */
function setup({ config = {}, engine: options = {}, graceMs }: Setup = {}) {
  const engine = new FakeDocker(options);
  const statuses: string[] = [];
  const progress: string[] = [];
  const parsed = dockerConfigSchema(diskPathContext(tree.root)).parse({
    type: 'docker',
    image: IMAGE,
    ...config,
  });
  const holdings = new Holdings(handlersFor(dockerBackend.undo));
  const runner = createDockerRunner(
    parsed,
    JOB,
    {
      env: {},
      guard: holdings.hold,
      status: (line) => statuses.push(line),
      progress: { write: (text) => progress.push(text) },
      ...(graceMs === undefined ? {} : { graceMs }),
    },
    engine,
  );
  /** What the run still holds that runs (its container), as a stopped run would name it. */
  const held = () => holdings.leftovers();
  return { engine, runner, statuses, progress, held };
}

/** The run's two output streams, each keeping what it was given. */
function collectingOutput() {
  const text = { stdout: '', stderr: '' };
  const sink = (name: keyof typeof text) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text[name] += chunk.toString();
        callback();
      },
    });
  const output: RunOutput = { stdout: sink('stdout'), stderr: sink('stderr') };
  return { output, text };
}

const never = () => new AbortController().signal;

/** Runs the model to its end on a started runner. */
async function runToEnd(runner: BackendRunner, signal = never()) {
  await runner.start(never());
  const { output, text } = collectingOutput();
  const { details, ...outcome } = await runner.run(output, signal);
  return { outcome, details, text, output };
}

/** Waits until the fake engine has seen a call. */
async function until(engine: FakeDocker, call: string): Promise<void> {
  for (let i = 0; i < 1000 && !engine.calls.some((c) => c.startsWith(call)); i++)
    await new Promise((resolve) => setImmediate(resolve));
  expect(engine.calls.some((c) => c.startsWith(call))).toBe(true);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('check', () => {
  it('names the engine and asks whether dockerd runs when the engine does not answer', async () => {
    const { runner } = setup({
      engine: {
        address: 'unix:///run/user/1000/docker.sock',
        unreachable: new Error('connect ENOENT /run/user/1000/docker.sock'),
      },
    });
    const error = await rejection(runner.check());
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toContain('unix:///run/user/1000/docker.sock');
    expect(error.message).toContain('is dockerd running?');
    expect(error.message).toContain('connect ENOENT');
    expect((error as EngineUnavailableError).hint).toMatch(/DOCKER_HOST/);
  });

  it('passes when the engine answers', async () => {
    const { runner, engine } = setup();
    await runner.check();
    expect(engine.calls).toEqual(['version']);
  });

  it('asks the engine once, though the pipeline checks and start() checks again', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE] } });
    await runner.check();
    await runner.start(never());
    expect(engine.calls.filter((c) => c === 'version')).toHaveLength(1);
  });
});

describe('start', () => {
  it('fails as engine unavailable, before any image work, when the engine does not answer', async () => {
    const { runner, engine } = setup({ engine: { unreachable: new Error('ECONNREFUSED') } });
    await expect(runner.start(never())).rejects.toBeInstanceOf(EngineUnavailableError);
    expect(engine.calls).toEqual(['version']);
  });

  it.each<{ policy: string; images: string[]; pulls: number }>([
    { policy: 'missing', images: [], pulls: 1 },
    { policy: 'missing', images: [IMAGE], pulls: 0 },
    { policy: 'always', images: [IMAGE], pulls: 1 },
    { policy: 'never', images: [IMAGE], pulls: 0 },
  ])(
    'pulls $pulls time(s) with pull_policy $policy and images $images, however many callers',
    async ({ policy, images, pulls }) => {
      const { runner, engine } = setup({ config: { pull_policy: policy }, engine: { images } });
      await Promise.all([runner.start(never()), runner.start(never())]);
      await runner.start(never());
      expect(engine.calls.filter((c) => c === `pull ${IMAGE}`)).toHaveLength(pulls);
      expect(engine.calls.filter((c) => c === 'version')).toHaveLength(1);
    },
  );

  it('tells the user about the pull and shows its progress', async () => {
    const { runner, statuses, progress } = setup();
    await runner.start(never());
    expect(statuses).toEqual([`pulling ${IMAGE}`]);
    expect(progress.join('')).toContain(`Status: Downloaded newer image for ${IMAGE}`);
  });

  it('fails naming the image, and creates nothing, when pull_policy is never and the image is absent', async () => {
    const { runner, engine, held } = setup({ config: { pull_policy: 'never' } });
    const error = await rejection(runner.start(never()));
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toContain(IMAGE);
    expect(error.message).toContain('pull_policy is never');
    await expect(runner.run(collectingOutput().output, never())).rejects.toBe(error);
    expect(engine.calls.filter((c) => c.startsWith('pull') || c.startsWith('create'))).toEqual([]);
    expect(held()).toEqual([]);
  });

  it('fails as a run failure naming the image when the engine refuses its name', async () => {
    // dockerode's error for the engine's 400, as it gives it.
    const refusal = Object.assign(
      new Error('(HTTP code 400) unexpected - no such image: Up: invalid reference format'),
      { statusCode: 400, json: { message: 'no such image: Up: invalid reference format' } },
    );
    const { runner, engine } = setup({ engine: { lookupError: refusal } });
    const error = await rejection(runner.start(never()));
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `the Docker engine at ${engine.address} refuses the image name "${IMAGE}": no such image: Up: invalid reference format`,
    );
    expect((error as RunFailedError).hint).toMatch(/fix `image` in the backend config/);
    expect(engine.calls.some((c) => c.startsWith('pull') || c.startsWith('create'))).toBe(false);
  });

  it('fails as a run failure when the engine cannot look the image up', async () => {
    const { runner } = setup({ engine: { lookupError: new Error('socket hang up') } });
    const error = await rejection(runner.start(never()));
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toMatch(/could not look up the image "busybox:1.36": socket hang up$/);
  });

  it('fails with the error inside the pull stream, even though the stream ends normally', async () => {
    const { runner, engine } = setup({
      engine: {
        pullMessages: [
          { status: 'Pulling from library/busybox', id: '1.36' },
          {
            error: 'manifest unknown',
            errorDetail: { message: 'manifest for busybox:1.36 not found: manifest unknown' },
          },
        ],
      },
    });
    const error = await rejection(runner.start(never()));
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toBe(
      `pulling ${IMAGE} failed: manifest for busybox:1.36 not found: manifest unknown`,
    );
    expect(engine.calls.some((c) => c.startsWith('create'))).toBe(false);
  });
});

describe('run', () => {
  it('attaches, registers the wait and listens for OOM reports before it starts the container', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE], model: { exitCode: 0 } } });
    await runToEnd(runner);
    const name = engine.specs[0]?.name;
    expect(engine.calls.slice(engine.calls.indexOf(`create ${name}`))).toEqual([
      `create ${name}`,
      'watchOutOfMemory',
      'attach',
      'waitForExit',
      'start',
      'state',
    ]);
    expect(engine.containers[0]?.watchClosed).toBe(true);
  });

  it('never starts a container it could not attach to, and fails the run with the engine’s message', async () => {
    const { runner, engine } = setup({
      engine: {
        images: [IMAGE],
        model: { exitCode: 0, attachError: new Error('connection reset by peer') },
      },
    });
    await runner.start(never());
    const error = await rejection(runner.run(collectingOutput().output, never()));
    expect(error.message).toBe('connection reset by peer');
    await runner.stop();
    expect(engine.calls).not.toContain('start');
    expect(engine.calls.at(-1)).toBe('remove');
  });

  it('creates the container from the config and the job, named and labelled for the run', async () => {
    const { runner, engine } = setup({
      config: { cpu: 2, memory: '1g' },
      engine: { images: [IMAGE], model: { exitCode: 0 } },
    });
    await runToEnd(runner);
    const [created] = engine.specs;
    expect(created?.name).toMatch(new RegExp(`^modelrun-${JOB.runId}-[0-9a-f]{8}$`));
    expect(created?.spec).toMatchObject({
      Image: IMAGE,
      Cmd: ['/bin/sh', '-c', 'sh run.sh'],
      User: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      Labels: { 'modelrun.run_id': JOB.runId, 'modelrun.staging_dir': JOB.stagingDir },
      HostConfig: { NanoCpus: 2e9, Memory: 1024 ** 3, Binds: [`${JOB.stagingDir}:/app/run:rw`] },
    });
  });

  it('streams stdout and stderr apart, and ends both when the container ends', async () => {
    const { runner } = setup({
      engine: {
        images: [IMAGE],
        model: {
          output: [
            Buffer.concat([frame(1, 'step 1\n'), frame(2, 'warn')]),
            frame(2, 'ing: CFL 0.9\n'),
            frame(1, 'done\n'),
          ],
          exitCode: 0,
        },
      },
    });
    const { outcome, text, output } = await runToEnd(runner);
    expect(outcome).toEqual({ exitCode: 0, signal: null });
    expect(text).toEqual({ stdout: 'step 1\ndone\n', stderr: 'warning: CFL 0.9\n' });
    expect(output.stdout.writableFinished).toBe(true);
    expect(output.stderr.writableFinished).toBe(true);
  });

  it('fails a run whose output could not be kept, though the container exited 0', async () => {
    const { runner } = setup({
      engine: { images: [IMAGE], model: { output: [frame(1, 'step 1\n')], exitCode: 0 } },
    });
    await runner.start(never());
    const full = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('ENOSPC: no space left on device, write'));
      },
    }).on('error', () => undefined);
    const { stderr } = collectingOutput().output;
    const { details, ...outcome } = await runner.run({ stdout: full, stderr }, never());
    expect(outcome).toEqual({
      exitCode: 0,
      signal: null,
      reason:
        "the model's output could not be written to the logs: ENOSPC: no space left on device, write",
    });
  });

  it.each<{ exitCode: number; signal: string | null }>([
    { exitCode: 0, signal: null },
    { exitCode: 1, signal: null },
    { exitCode: 3, signal: null },
    { exitCode: 128, signal: null },
    { exitCode: 130, signal: 'SIGINT' },
    { exitCode: 137, signal: 'SIGKILL' },
    { exitCode: 143, signal: 'SIGTERM' },
  ])('reports exit code $exitCode as signal $signal', async ({ exitCode, signal }) => {
    const { runner } = setup({ engine: { images: [IMAGE], model: { exitCode } } });
    const { outcome } = await runToEnd(runner);
    expect(outcome).toEqual({ exitCode, signal });
  });

  it.each<{ memory?: string; reason: string }>([
    { memory: '512m', reason: 'killed: out of memory (limit 512m)' },
    { memory: '2g', reason: 'killed: out of memory (limit 2g)' },
    { reason: 'killed: out of memory (limit none set)' },
  ])('names an OOM kill with its limit: $reason', async ({ memory, reason }) => {
    const { runner } = setup({
      config: memory === undefined ? {} : { memory },
      engine: { images: [IMAGE], model: { exitCode: 137, oomKilled: true } },
    });
    const { outcome } = await runToEnd(runner);
    expect(outcome).toEqual({ exitCode: 137, signal: 'SIGKILL', reason });
  });

  it('names an OOM kill whose report came after the exit, which OOMKilled then misses', async () => {
    const { runner, engine } = setup({
      config: { memory: '32m' },
      engine: { images: [IMAGE], model: { exitCode: 137, lateOomReportMs: 50 } },
    });
    const { outcome } = await runToEnd(runner);
    expect(outcome).toEqual({
      exitCode: 137,
      signal: 'SIGKILL',
      reason: 'killed: out of memory (limit 32m)',
    });
    expect(engine.containers[0]?.watchClosed).toBe(true);
  });

  it('calls a SIGKILL under a memory limit with no OOM report at all most likely out of memory', async () => {
    const { runner } = setup({
      config: { memory: '32m' },
      engine: { images: [IMAGE], model: { exitCode: 137 } },
    });
    const { outcome } = await runToEnd(runner);
    expect(outcome).toEqual({
      exitCode: 137,
      signal: 'SIGKILL',
      reason:
        'killed by SIGKILL, most likely out of memory (limit 32m); the engine reported no OOM kill',
    });
  });

  it('does not blame memory for the SIGKILL of a container it stopped itself', async () => {
    const { runner, engine } = setup({
      config: { memory: '32m' },
      engine: { images: [IMAGE], model: { ignoresTerm: true } },
    });
    const abort = new AbortController();
    const running = runToEnd(runner, abort.signal);
    await until(engine, 'start');
    abort.abort();
    expect((await running).outcome).toEqual({ exitCode: 137, signal: 'SIGKILL' });
  });

  it('does not wait for an OOM report after an exit that is not a SIGKILL', async () => {
    const { runner } = setup({
      config: { memory: '32m' },
      engine: { images: [IMAGE], model: { exitCode: 1, lateOomReportMs: 50 } },
    });
    const { outcome } = await runToEnd(runner);
    expect(outcome).toEqual({ exitCode: 1, signal: null });
  });

  it('names the container it ran in, for run.json', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE], model: { exitCode: 0 } } });
    const { details } = await runToEnd(runner);
    expect(details).toEqual({ container_id: engine.containers[0]?.id });
  });

  it('fails when called before start', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE] } });
    await expect(runner.run(collectingOutput().output, never())).rejects.toThrow(
      'start() must come before run()',
    );
    expect(engine.calls).toEqual([]);
  });

  it.each<{ graceMs?: number; seconds: number }>([
    { seconds: 10 },
    { graceMs: 2000, seconds: 2 },
    { graceMs: 2500, seconds: 3 },
  ])(
    'stops the container with $seconds s of grace when the signal aborts (graceMs $graceMs)',
    async ({ graceMs, seconds }) => {
      const { runner, engine } = setup({
        engine: { images: [IMAGE], model: { output: [frame(1, 'step 1\n')] } },
        ...(graceMs === undefined ? {} : { graceMs }),
      });
      const abort = new AbortController();
      const running = runToEnd(runner, abort.signal);
      await until(engine, 'start');
      expect(engine.calls.some((c) => c.startsWith('stop'))).toBe(false);
      abort.abort();
      const { outcome, text } = await running;
      expect(engine.calls).toContain(`stop ${seconds}`);
      expect(outcome).toEqual({ exitCode: 143, signal: 'SIGTERM' });
      expect(text.stdout).toBe('step 1\n');
    },
  );

  it('fails as a run failure, not a bug, when the engine cannot start the container, and still removes it', async () => {
    const { runner, engine, held } = setup({
      engine: {
        images: [IMAGE],
        model: { startError: new Error('OCI runtime create failed: no such file') },
      },
    });
    await runner.start(never());
    await expect(runner.run(collectingOutput().output, never())).rejects.toThrow(
      /^the container could not start: OCI runtime create failed: no such file$/,
    );
    await runner.stop();
    expect(engine.calls.at(-1)).toBe('remove');
    expect(held()).toEqual([]);
  });

  it('does not start the container when the signal aborted before the run', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE], model: { exitCode: 0 } } });
    const abort = new AbortController();
    abort.abort();
    const { outcome } = await runToEnd(runner, abort.signal);
    expect(outcome).toEqual({
      exitCode: null,
      signal: null,
      reason: 'stopped before the container started',
    });
    expect(engine.calls).not.toContain('start');
  });
});

describe('stop', () => {
  it('does nothing before a container exists', async () => {
    const { runner, engine, held } = setup({ engine: { images: [IMAGE] } });
    await runner.start(never());
    const before = [...engine.calls];
    await runner.stop();
    expect(engine.calls).toEqual(before);
    expect(held()).toEqual([]);
  });

  it('removes the container once, and names it as a leftover until then', async () => {
    const { runner, engine, held } = setup({ engine: { images: [IMAGE], model: { exitCode: 0 } } });
    await runToEnd(runner);
    const [container] = engine.containers;
    expect(held()).toEqual([
      `container ${container?.id.slice(0, 12)} (docker rm -f ${container?.id.slice(0, 12)})`,
    ]);

    await runner.stop();
    expect(container?.removed).toBe(true);
    expect(held()).toEqual([]);

    const before = [...engine.calls];
    await runner.stop();
    expect(engine.calls).toEqual(before);
  });

  it('removes a container that still runs, which ends the run', async () => {
    const { runner, engine } = setup({ engine: { images: [IMAGE], model: {} } });
    const running = runToEnd(runner);
    await until(engine, 'start');
    await runner.stop();
    expect(engine.containers[0]?.removed).toBe(true);
    const { outcome } = await running;
    expect(outcome.exitCode).toBe(137);
  });

  it('with remove_container false, kills a container that still runs and keeps it', async () => {
    const { runner, engine } = setup({
      config: { remove_container: false },
      engine: { images: [IMAGE], model: {} },
    });
    const running = runToEnd(runner);
    await until(engine, 'start');
    await runner.stop();
    const { outcome } = await running;
    expect(engine.calls).toContain('kill');
    expect(engine.calls).not.toContain('remove');
    expect(engine.containers[0]?.removed).toBe(false);
    expect(outcome).toEqual({ exitCode: 137, signal: 'SIGKILL' });
  });

  it('with remove_container false, leaves a container that has ended alone', async () => {
    const { runner, engine } = setup({
      config: { remove_container: false },
      engine: { images: [IMAGE], model: { exitCode: 0 } },
    });
    await runToEnd(runner);
    await runner.stop();
    expect(engine.calls).not.toContain('kill');
    expect(engine.calls).not.toContain('remove');
    expect(engine.containers[0]?.removed).toBe(false);
  });
});
