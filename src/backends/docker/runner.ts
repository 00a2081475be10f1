import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { isKnownError, RunFailedError } from '../../errors.js';
import { outputLost, type RunOutput } from '../../exec/run-output.js';
import { signalName } from '../../exec/signals.js';
import { endAndWait } from '../../exec/streams.js';
import type { DockerContainerTask } from '../containers/docker-undo.js';
import { invokingIdentity } from '../containers/settings.js';
import type { BackendRunner, RunHooks, RunJob, RunnerDeps, RunOutcome } from '../contract.js';
import type { DockerEngine, EngineContainer, OutOfMemoryWatch } from './client.js';
import type { DockerConfig } from './config.js';
import { buildContainerSpec } from './container.js';
import { answered, ENGINE_ANSWER_MS } from './deadline.js';
import { Demuxer } from './demux.js';
import { ensureImage } from './image.js';
import { checkDockerEngine } from './probe.js';

/** Seconds the engine waits after SIGTERM before it sends SIGKILL. */
export const DOCKER_GRACE_SECONDS = 10;

/** How long an exit by SIGKILL under a memory limit waits for the engine's OOM report. */
const LATE_OOM_REPORT_MS = 2000;

/**
 * One run in a Docker container: check the engine, get the image, create
 * the container with the wait registered before start, stream its
 * demultiplexed output, and remove the container whatever happens.
 */
export function createDockerRunner(
  config: DockerConfig,
  job: RunJob,
  deps: RunnerDeps<DockerContainerTask>,
  engine: DockerEngine,
  answerMs = ENGINE_ANSWER_MS,
): BackendRunner {
  let started: Promise<string> | undefined;
  let container: EngineContainer | undefined;
  let removed = false;
  let unguard = () => {};
  const graceSeconds =
    deps.graceMs === undefined ? DOCKER_GRACE_SECONDS : Math.ceil(deps.graceMs / 1000);

  // Asked once: start() checks too, so that it stands on its own, and reuses the pipeline's answer.
  let checked: Promise<void> | undefined;
  const bound = (what: string, stop: AbortSignal | undefined) => ({
    address: engine.address,
    what,
    stop,
    ms: answerMs,
  });
  // The check `backends list` shows, through this run's engine client.
  const check = (stop?: AbortSignal) =>
    (checked ??= checkDockerEngine(engine, { ms: answerMs, stop }).then(({ error }) => {
      if (error !== undefined) throw error;
    }));

  return {
    check,
    start(signal: AbortSignal) {
      // Shared by concurrent callers: the image is pulled or built once.
      started ??= (async () => {
        await check(signal);
        return ensureImage(engine, config, {
          status: deps.status,
          progress: deps.progress ?? { write: () => {} },
          signal,
          answerMs,
        });
      })();
      return started.then(() => undefined);
    },

    async run(output: RunOutput, signal: AbortSignal, hooks?: RunHooks): Promise<RunOutcome> {
      const image = await (started ?? Promise.reject(new Error('start() must come before run()')));
      const spec = buildContainerSpec(config, job, image, invokingIdentity());
      const name = `modelrun-${job.runId}-${randomBytes(4).toString('hex')}`;
      const created = await answered(
        (s) => engine.createContainer(name, spec, s),
        bound(`the request to create the container ${name}`, signal),
      ).catch((error: Error) => {
        if (isKnownError(error)) throw error;
        throw new RunFailedError(
          `the Docker engine refused to create the container: ${error.message}`,
          {
            hint: 'check the image, the volumes and the other settings in the backend config',
            cause: error,
          },
        );
      });
      container = created;
      const task: DockerContainerTask = {
        kind: 'docker-container',
        id: created.id,
        engine: engine.address,
        remove: config.remove_container,
      };
      unguard = deps.guard?.(task) ?? unguard;
      hooks?.submitted({ ...task });
      // Heard from before start, like the output and the exit. Without it the
      // run still works; an OOM kill is then known only from OOMKilled.
      const watching = created.watchOutOfMemory().catch(() => undefined);
      const onAbort = () => {
        created.stop(graceSeconds).catch(() => created.kill().catch(() => undefined));
      };
      try {
        // Attach and register the wait before start, so that neither the first
        // output nor a quick exit can be missed: both at once, as neither
        // needs the other, and each is a round trip to the engine.
        const [attaching, registering] = await Promise.allSettled([
          created.attach(),
          created.waitForExit(),
        ]);
        if (attaching.status === 'rejected') {
          // The container never starts; its removal ends the wait, unheard.
          if (registering.status === 'fulfilled') registering.value.exited.catch(() => undefined);
          throw attaching.reason;
        }
        if (registering.status === 'rejected') throw registering.reason;
        const attached = attaching.value;
        const { exited } = registering.value;
        // A failure is kept as a value: awaited once the container has exited,
        // it must not count as an unhandled rejection until then.
        const streamed = pipeline(attached, new Demuxer(output)).then(
          () => undefined,
          (error: Error) => error,
        );
        signal.addEventListener('abort', onAbort, { once: true });
        if (signal.aborted)
          return { exitCode: null, signal: null, reason: 'stopped before the container started' };
        await created.start().catch((error: Error) => {
          throw new RunFailedError(`the container could not start: ${error.message}`, {
            hint: 'check the command, the user and the mounts; `--dry-run` prints the container spec',
            cause: error,
          });
        });
        const { exitCode } = await exited;
        const outputError = await streamed;
        await Promise.all([endAndWait(output.stdout), endAndWait(output.stderr)]);
        const outcome = await describeExit(created, exitCode, config, {
          oom: await watching,
          stoppedByUs: signal.aborted,
        });
        // The model ran, but its output could not be kept: that must not pass as success.
        if (outputError !== undefined && outcome.reason === undefined)
          outcome.reason = outputLost(outputError.message);
        return { ...outcome, details: { container_id: created.id } };
      } finally {
        signal.removeEventListener('abort', onAbort);
        void watching.then((watch) => watch?.close());
      }
    },

    async stop() {
      if (container === undefined || removed) return;
      if (config.remove_container) {
        await container.remove();
        removed = true;
        unguard();
        return;
      }
      // Kept for inspection, but never left running.
      const state = await container.state().catch(() => undefined);
      if (state?.running) await container.kill();
      unguard();
    },
  };
}

/** The container's exit, in the run's terms: OOM kills and signals are named, never passed off as success. */
async function describeExit(
  container: EngineContainer,
  exitCode: number,
  config: DockerConfig,
  how: { oom: OutOfMemoryWatch | undefined; stoppedByUs: boolean },
): Promise<RunOutcome> {
  const state = await container.state().catch(() => undefined);
  // A SIGKILL under a memory limit that modelrun did not send is most likely
  // the kernel's: give its report a moment to arrive, since the engine may
  // have seen the exit first.
  const likelyOom = exitCode === 137 && config.memory !== undefined && !how.stoppedByUs;
  const limit = config.memory ?? 'none set';
  if (state?.oomKilled || (await how.oom?.seen(likelyOom ? LATE_OOM_REPORT_MS : 0))) {
    // The kernel kills with SIGKILL; the main process may also outlive a killed child.
    return {
      exitCode,
      signal: exitCode === 137 ? 'SIGKILL' : null,
      reason: `killed: out of memory (limit ${limit})`,
    };
  }
  // The engine can lose the report altogether: the cgroup that counted the
  // kill is gone before its OOM event is read. Say what is most likely.
  if (likelyOom)
    return {
      exitCode,
      signal: 'SIGKILL',
      reason: `killed by SIGKILL, most likely out of memory (limit ${limit}); the engine reported no OOM kill`,
    };
  // Like a shell, the engine reports death by signal N as 128 + N.
  const signal = exitCode > 128 ? signalName(exitCode - 128) : undefined;
  return { exitCode, signal: signal ?? null };
}
