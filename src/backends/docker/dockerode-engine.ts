import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import { EngineUnavailableError } from '../../errors.js';
import {
  ALREADY_DONE,
  type EngineAddress,
  fetchEngineVersion,
} from '../containers/docker-engine-api.js';
import type { ContainerSpec } from '../containers/engine-spec.js';
import type { BuildOptions, DockerEngine, EngineContainer, ProgressMessage } from './client.js';

/**
 * The Docker engine at `address`, through dockerode. dockerode is loaded at
 * the first call, so a run that never reaches the engine (`--dry-run`) does
 * not pay for loading it.
 */
export function dockerodeEngine(address: EngineAddress): DockerEngine {
  let client: Promise<Docker> | undefined;
  const connect = () =>
    (client ??= import('./dockerode-connect.js').then(({ connectDockerode }) =>
      connectDockerode(address),
    ));

  return {
    address: address.url,
    // Without dockerode: a run that finds no engine has loaded nothing for it.
    version: (signal) => fetchEngineVersion(address, 0, signal),
    async imageExists(reference, signal) {
      try {
        await get(await connect(), `/images/${reference}/json`, signal);
        return true;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return false;
        throw error;
      }
    },
    async pull(reference, signal) {
      const stream = (await (
        await connect()
      ).pull(reference, {
        abortSignal: signal,
      })) as NodeJS.ReadableStream;
      return jsonLines(stream);
    },
    async build(context, options: BuildOptions, signal) {
      // dockerode declares a whole Node stream, though docker-modem only pipes
      // the context into its request and listens for its 'error' (ContextStream).
      const stream = await (await connect()).buildImage(context as NodeJS.ReadableStream, {
        t: options.tag,
        dockerfile: options.dockerfile,
        buildargs: options.buildArgs,
        pull: options.pull,
        labels: options.labels,
        rm: true,
        forcerm: true,
        abortSignal: signal,
      });
      return jsonLines(stream);
    },
    async createContainer(name, spec: ContainerSpec, signal) {
      const docker = await connect();
      const container = await docker.createContainer({ name, ...spec, abortSignal: signal });
      // An answer with no container id is not a Docker engine's: nothing could be followed or removed.
      if (typeof container.id !== 'string' || container.id === '')
        throw new EngineUnavailableError(
          `the engine at ${address.url} created no container (its answer had no container id): it does not answer as a Docker engine does`,
          { hint: 'point DOCKER_HOST or docker_host at a Docker engine' },
        );
      return wrapContainer(docker, container);
    },
    async listContainers(labels) {
      const found = await (await connect()).listContainers({
        all: true,
        filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) },
      });
      return found.map((c) => ({ id: c.Id, running: c.State === 'running' }));
    },
  };
}

/**
 * A GET that ends when `signal` aborts. Dialled directly: dockerode's image
 * inspect drops the abort signal.
 */
function get(docker: Docker, path: string, signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path,
        method: 'GET',
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'not found', 500: 'server error' },
      },
      (error, data) => (error ? reject(error) : resolve(data)),
    );
  });
}

function wrapContainer(docker: Docker, container: Docker.Container): EngineContainer {
  return {
    id: container.id,
    async attach() {
      // Before the start, the live stream has it all. A replay of the logs as
      // well (logs: true) could give a line written as the stream takes over
      // twice (moby#29285).
      return container.attach({ stream: true, stdout: true, stderr: true, logs: false });
    },
    waitForExit() {
      // dockerode's wait() resolves only at exit; dialling with isStream
      // resolves when the engine has answered the wait request, that is, once
      // the wait is registered.
      return new Promise((registered, reject) => {
        docker.modem.dial(
          {
            path: `/containers/${container.id}/wait?`,
            method: 'POST',
            options: { condition: 'next-exit' },
            isStream: true,
            statusCodes: {
              200: true,
              400: 'bad parameter',
              404: 'no such container',
              500: 'server error',
            },
          },
          (error, response) => {
            if (error !== null) {
              reject(error);
              return;
            }
            // Wrapped in an object: resolving with the promise itself would wait for the exit.
            registered({
              exited: readAll(response as NodeJS.ReadableStream).then((body) => ({
                exitCode: (JSON.parse(body) as { StatusCode: number }).StatusCode,
              })),
            });
          },
        );
      });
    },
    async watchOutOfMemory() {
      const events = (await docker.getEvents({
        // From the epoch: the engine replays what it still holds of this
        // container's events, so a report sent before this request reached
        // the engine (a model that dies at once) is not missed. The container
        // filter keeps that to this container's own events.
        since: 1,
        filters: { type: ['container'], container: [container.id], event: ['oom'] },
      })) as NodeJS.ReadableStream & { destroy(): void };
      let seen = false;
      const waiting = new Set<() => void>();
      events.on('data', () => {
        seen = true;
        for (const wake of waiting) wake();
      });
      // A broken events stream only means no late report; OOMKilled still counts.
      events.on('error', () => undefined);
      return {
        seen(ms) {
          if (seen || ms <= 0) return Promise.resolve(seen);
          return new Promise<boolean>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              waiting.delete(wake);
              resolve(seen);
            };
            const timer = setTimeout(wake, ms);
            waiting.add(wake);
          });
        },
        close: () => events.destroy(),
      };
    },
    async start() {
      await container.start();
    },
    async stop(graceSeconds) {
      await ignoreStatus(container.stop({ t: graceSeconds }), [304, 404]);
    },
    async kill() {
      await ignoreStatus(container.kill(), ALREADY_DONE);
    },
    async state() {
      const info = await container.inspect();
      return {
        running: info.State.Running,
        exitCode: info.State.ExitCode,
        oomKilled: info.State.OOMKilled,
      };
    },
    async remove() {
      await ignoreStatus(container.remove({ force: true, v: true }), ALREADY_DONE);
    },
  };
}

/** Answers that mean the goal is met: 304 "already stopped", or ALREADY_DONE. */
async function ignoreStatus(call: Promise<unknown>, statuses: readonly number[]): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!statuses.includes((error as { statusCode?: number }).statusCode ?? 0)) throw error;
  }
}

async function* jsonLines(stream: NodeJS.ReadableStream): AsyncIterable<ProgressMessage> {
  for await (const line of createInterface({
    input: stream,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as ProgressMessage;
    } catch {
      yield { stream: `${line}\n` };
    }
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
  });
}
