import { realpathSync } from 'node:fs';
import type { HandleOps, HandleOwner, LiveState } from '../../exec/guard.js';
import { isEngineAddress } from './docker-host.js';
import type { DockerContainerTask } from './docker-undo.js';
import { LABELS } from './labels.js';

/** Seconds a cancelled container has between SIGTERM and SIGKILL, as the docker runner gives it. */
const STOP_SECONDS = 10;

/** A docker run's handle: its container, on the engine that runs it. */
export const dockerContainerHandle: HandleOps<DockerContainerTask> = {
  kind: 'docker-container',
  read(value) {
    const { id, engine, remove } = value;
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) return undefined;
    if (!isEngineAddress(engine)) return undefined;
    if (typeof remove !== 'boolean') return undefined;
    return { kind: 'docker-container', id, engine, remove };
  },
  async inspect(handle, env, run) {
    const found = await inspectContainer(handle, env);
    if (found.kind === 'answer') return found.state;
    if (!isTheRuns(found.labels, run)) return notTheRuns(handle, run);
    return containerState(handle.id.slice(0, 12), found.info);
  },
  async cancel(handle, env, run) {
    const found = await inspectContainer(handle, env);
    if (found.kind === 'answer') {
      if (found.state.state === 'gone') return;
      throw new Error(found.state.detail);
    }
    // Only a container modelrun started for this run: the labels say so.
    if (!isTheRuns(found.labels, run)) throw new Error(notTheRuns(handle, run).detail);
    const api = await import('./docker-engine-api.js');
    const address = api.engineAddress({ ...env, DOCKER_HOST: handle.engine });
    // The engine sends SIGTERM, then SIGKILL after the grace, and answers once the container has stopped.
    const stopped = await api.engineRequest(
      address,
      'POST',
      `/containers/${handle.id}/stop?t=${STOP_SECONDS}`,
      (STOP_SECONDS + 30) * 1000,
    );
    if (stopped.status >= 300 && stopped.status !== 304 && stopped.status !== 404)
      throw new Error(`the Docker engine answered ${stopped.status}: ${stopped.body.trim()}`);
    const { removeAbandonedContainer } = await import('./docker-undo.js');
    if (handle.remove) await removeAbandonedContainer(handle, { env });
  },
};

/** The engine's word on the container: its state and labels, or a state that says why there are none. */
async function inspectContainer(
  handle: DockerContainerTask,
  env: NodeJS.ProcessEnv,
): Promise<
  | { kind: 'answer'; state: LiveState }
  | { kind: 'container'; info: { State?: EngineState }; labels: Record<string, unknown> }
> {
  const api = await import('./docker-engine-api.js');
  const short = handle.id.slice(0, 12);
  const unknown = (detail: string) => ({
    kind: 'answer' as const,
    state: { state: 'unknown' as const, detail },
  });
  let answer: { status: number; body: string };
  try {
    const address = api.engineAddress({ ...env, DOCKER_HOST: handle.engine });
    answer = await api.engineRequest(address, 'GET', `/containers/${handle.id}/json`, 10_000);
  } catch (error) {
    return unknown(
      `no answer from the Docker engine at ${handle.engine}: ${(error as Error).message}`,
    );
  }
  // The engine's own words, not any server's 404.
  if (answer.status === 404 && /no such container/i.test(answer.body))
    return {
      kind: 'answer',
      state: { state: 'gone', detail: `container ${short} no longer exists` },
    };
  if (answer.status !== 200)
    return unknown(
      `the Docker engine answered ${answer.status}: ${answer.body.trim().slice(0, 200)}`,
    );
  let info: unknown;
  try {
    info = JSON.parse(answer.body);
  } catch {
    return unknown('the Docker engine answered with something that is not JSON');
  }
  if (typeof info !== 'object' || info === null)
    return unknown('the Docker engine answered with no container');
  const config = (info as { Config?: { Labels?: unknown } }).Config;
  const labels =
    typeof config?.Labels === 'object' && config.Labels !== null
      ? (config.Labels as Record<string, unknown>)
      : {};
  return { kind: 'container', info: info as { State?: EngineState }, labels };
}

/**
 * The container modelrun started for this run, in this run dir: its run id
 * label, and its staging dir label naming the same folder, whatever links
 * lead to it. A copy of a run dir holds the same run.json, and so the same
 * handle, but is not the folder the container was started for.
 */
function isTheRuns(labels: Record<string, unknown>, run: HandleOwner): boolean {
  if (labels[LABELS.runId] !== run.runId) return false;
  const dir = labels[LABELS.stagingDir];
  if (typeof dir !== 'string') return false;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  return real(dir) === real(run.stagingDir);
}

function notTheRuns(handle: DockerContainerTask, run: HandleOwner): LiveState {
  return {
    state: 'unknown',
    notTheRuns: true,
    detail: `container ${handle.id.slice(0, 12)} does not carry the labels ${LABELS.runId}=${run.runId} and ${LABELS.stagingDir} of ${run.stagingDir}: it is not this run's, and is left alone`,
  };
}

interface EngineState {
  Status?: unknown;
  ExitCode?: unknown;
  OOMKilled?: unknown;
}

function containerState(short: string, { State: state }: { State?: EngineState }): LiveState {
  const status = typeof state?.Status === 'string' ? state.Status : 'unknown';
  if (status === 'created')
    return { state: 'waiting', detail: `container ${short} is created, not started` };
  if (status === 'running' || status === 'paused' || status === 'restarting')
    return { state: 'running', detail: `container ${short} is ${status}` };
  if (status === 'exited' || status === 'dead') {
    const code =
      typeof state?.ExitCode === 'number' && Number.isInteger(state.ExitCode)
        ? state.ExitCode
        : undefined;
    const oom = state?.OOMKilled === true ? ', killed: out of memory' : '';
    return {
      state: 'ended',
      detail: `container ${short} has exited${code === undefined ? '' : ` with code ${code}`}${oom}`,
      ...(code === undefined ? {} : { exitCode: code }),
    };
  }
  return { state: 'unknown', detail: `container ${short} is ${status}` };
}
