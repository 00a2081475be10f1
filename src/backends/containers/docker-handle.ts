import type { HandleOps, LiveState } from '../../exec/guard.js';
import type { DockerContainerTask } from './docker-undo.js';

/** Seconds a cancelled container has between SIGTERM and SIGKILL, as the docker runner gives it. */
const STOP_SECONDS = 10;

/** A docker run's handle: its container, on the engine that runs it. */
export const dockerContainerHandle: HandleOps<DockerContainerTask> = {
  kind: 'docker-container',
  read(value) {
    const { id, engine, remove } = value;
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) return undefined;
    if (typeof engine !== 'string' || !/^(?:unix|tcp|https?):\/\/\S+$/.test(engine))
      return undefined;
    if (typeof remove !== 'boolean') return undefined;
    return { kind: 'docker-container', id, engine, remove };
  },
  async inspect(handle, env) {
    const api = await import('./docker-engine-api.js');
    const short = handle.id.slice(0, 12);
    let answer: { status: number; body: string };
    try {
      const address = api.engineAddress({ ...env, DOCKER_HOST: handle.engine });
      answer = await api.engineRequest(address, 'GET', `/containers/${handle.id}/json`, 10_000);
    } catch (error) {
      return {
        state: 'unknown',
        detail: `no answer from the Docker engine at ${handle.engine}: ${(error as Error).message}`,
      };
    }
    if (answer.status === 404)
      return { state: 'gone', detail: `container ${short} no longer exists` };
    if (answer.status !== 200)
      return {
        state: 'unknown',
        detail: `the Docker engine answered ${answer.status}: ${answer.body.trim()}`,
      };
    return containerState(short, JSON.parse(answer.body) as { State?: EngineState });
  },
  async cancel(handle, env) {
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

interface EngineState {
  Status?: string;
  ExitCode?: number;
  OOMKilled?: boolean;
}

function containerState(short: string, { State: state }: { State?: EngineState }): LiveState {
  const status = state?.Status ?? 'unknown';
  if (status === 'created')
    return { state: 'waiting', detail: `container ${short} is created, not started` };
  if (status === 'running' || status === 'paused' || status === 'restarting')
    return { state: 'running', detail: `container ${short} is ${status}` };
  if (status === 'exited' || status === 'dead') {
    const code = state?.ExitCode;
    const oom = state?.OOMKilled === true ? ', killed: out of memory' : '';
    return {
      state: 'ended',
      detail: `container ${short} has exited${code === undefined ? '' : ` with code ${code}`}${oom}`,
      ...(code === undefined ? {} : { exitCode: code }),
    };
  }
  return { state: 'unknown', detail: `container ${short} is ${status}` };
}
