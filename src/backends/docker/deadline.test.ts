import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { EngineUnavailableError, RunFailedError } from '../../errors.js';
import type { StopReason } from '../../exec/stop-reason.js';
import type { ContainerSpec } from '../containers/engine-spec.js';
import { dockerConfigSchema } from './config.js';
import { answered } from './deadline.js';
import { dockerodeEngine } from './dockerode-engine.js';
import { createDockerRunner } from './runner.js';

/**
 * An engine that accepts connections and never answers must not hang a
 * run: its quick calls give up at a deadline, and an interrupt ends the
 * wait at once. Tested with dockerode against real sockets, so that the
 * request is really abandoned, not only the promise.
 */

const tree = makeTree({ 'staging/': '' });
afterAll(() => tree.remove());
// modelrun loads dockerode at its first call, which can take longer than
// these tests' 300 ms deadline: whichever test ran first would time out on
// the version request before its own. Loaded here, the deadline measures the
// engine alone.
beforeAll(() => import('./dockerode-connect.js'));

const ANSWER_MS = 300;
const servers: (Server | HttpServer)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** Listens on 127.0.0.1, accepts connections, and never writes a byte. */
async function silentEngine(): Promise<{ url: string; closed: Promise<void> }> {
  let closed = () => {};
  const closing = new Promise<void>((resolve) => (closed = resolve));
  const server = createNetServer((socket) => {
    sockets.push(socket);
    // Read (and drop) what comes, so that the client's end is seen at once:
    // a socket nobody reads never reports that the other side went away.
    socket.resume();
    socket.on('close', closed);
  });
  return { url: await listen(server), closed: closing };
}

/** Answers a ping as a Docker engine does, with its version in the headers; false for any other request. */
function answeredPing(request: IncomingMessage, response: ServerResponse): boolean {
  if (!request.url?.endsWith('/_ping')) return false;
  response.setHeader('Api-Version', '1.47');
  response.setHeader('Server', 'Docker/27.3.1 (linux)');
  response.end('OK');
  return true;
}

/** Answers the version request (a ping), and hangs on requests that match `hang`, answering others with `{}`. */
async function engineHangingAt(hang: RegExp): Promise<string> {
  const server = createHttpServer((request, response) => {
    sockets.push(request.socket);
    if (hang.test(request.url ?? '') || answeredPing(request, response)) return;
    response.setHeader('content-type', 'application/json');
    response.end('{}');
  });
  return listen(server);
}

async function listen(server: Server | HttpServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `tcp://127.0.0.1:${port}`;
}

function runner(url: string, answerMs = ANSWER_MS) {
  const [host, port] = url.slice('tcp://'.length).split(':');
  const engine = dockerodeEngine({ url, host: host as string, port: Number(port) });
  const config = dockerConfigSchema(diskPathContext(tree.root)).parse({
    type: 'docker',
    image: 'modelrun-test/busybox',
  });
  return createDockerRunner(
    config,
    { runId: 'deadline', stagingDir: tree.path('staging'), modelCommand: 'true' },
    { env: {}, status: () => {} },
    engine,
    answerMs,
  );
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

const interrupted = (signal: 'SIGTERM' | 'SIGINT') => {
  const controller = new AbortController();
  controller.abort({ kind: 'interrupt', signal } satisfies StopReason);
  return controller.signal;
};

const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });

describe('an engine that never answers', () => {
  it('fails the check at the deadline, saying so, and drops the connection', async () => {
    const { url, closed } = await silentEngine();
    const error = await rejection(runner(url).check());
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toBe(
      `the Docker engine at ${url} does not answer: no reply to the version request within 0.3 s`,
    );
    expect((error as EngineUnavailableError).hint).toMatch(/docker info/);
    await closed;
  });

  it('ends the check at once on an interrupt, with its exit code', async () => {
    const { url, closed } = await silentEngine();
    const error = await rejection(runner(url).check(interrupted('SIGTERM')));
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).exitCode).toBe(143);
    expect(error.message).toMatch(/^stopped by SIGTERM while waiting for the Docker engine at /);
    await closed;
  });

  it('ends the check when an interrupt comes during the wait', async () => {
    const { url } = await silentEngine();
    const controller = new AbortController();
    const checking = rejection(runner(url).check(controller.signal));
    setTimeout(() => controller.abort({ kind: 'interrupt', signal: 'SIGINT' }), 50);
    expect(((await checking) as RunFailedError).exitCode).toBe(130);
  });

  it('fails an image lookup that gets no answer', async () => {
    const url = await engineHangingAt(/^\/images\//);
    // A deadline the version request meets on a busy machine: the lookup is what must miss it.
    const error = await rejection(runner(url, 1000).start(new AbortController().signal));
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toMatch(/no reply to the lookup of the image modelrun-test\/busybox/);
  });

  it('has no deadline on a pull, but ends it when the run is stopped', async () => {
    // The image lookup says "not here", so the pull starts, and gets no answer.
    let pulling: () => void = () => {};
    const pullAsked = new Promise<void>((resolve) => (pulling = resolve));
    const server = createHttpServer((request, response) => {
      sockets.push(request.socket);
      if (request.url?.includes('/images/create')) return pulling();
      if (answeredPing(request, response)) return;
      if (request.url?.includes('/images/')) response.writeHead(404);
      response.end('{}');
    });
    const url = await listen(server);
    const controller = new AbortController();
    // A deadline the version request and the image lookup meet on a busy machine:
    // they are not what this test is about, and a miss would end the start before the pull.
    const answerMs = 1000;
    const starting = rejection(runner(url, answerMs).start(controller.signal));
    const early = starting.then((error) => {
      throw new Error(`the start ended before its pull: ${error.message}`);
    });
    await Promise.race([pullAsked, early]);
    // Past the deadline that every other request has: the pull goes on.
    await new Promise((resolve) => setTimeout(resolve, answerMs * 1.5));
    controller.abort({ kind: 'interrupt', signal: 'SIGTERM' });
    expect((await starting).message).toMatch(/^pulling modelrun-test\/busybox failed: /);
  });

  it('fails, as no Docker engine, one that creates no container: its answer has no id', async () => {
    // Answers every request with {}: the ping passes, the creation names no container.
    const url = await engineHangingAt(/^$/);
    const run = runner(url, 1000);
    const signal = new AbortController().signal;
    await run.start(signal);
    const error = await rejection(run.run({ stdout: sink(), stderr: sink() }, signal));
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toContain('created no container (its answer had no container id)');
  });

  it('fails a container creation that gets no answer', async () => {
    const url = await engineHangingAt(/^\/containers\/create/);
    // A deadline the version request and the image lookup meet on a busy machine.
    const run = runner(url, 1000);
    const signal = new AbortController().signal;
    await run.start(signal);
    const error = await rejection(run.run({ stdout: sink(), stderr: sink() }, signal));
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toMatch(/no reply to the request to create the container modelrun-/);
  });
});

describe('answered', () => {
  it('gives up at the deadline even when the call ignores its signal', async () => {
    const error = await rejection(
      answered(() => new Promise(() => {}), { address: 'unix:///x', what: 'a ping', ms: 20 }),
    );
    expect(error).toBeInstanceOf(EngineUnavailableError);
  });

  it("passes the engine's own errors through", async () => {
    const refused = new Error('connect ECONNREFUSED');
    const error = await rejection(
      answered(() => Promise.reject(refused), { address: 'unix:///x', what: 'a ping', ms: 1000 }),
    );
    expect(error).toBe(refused);
  });
});

describe('attaching to a new container', () => {
  // Attached before the start, the stream has everything the model writes.
  // With logs=true as well the engine replays a backlog, and a line written
  // as the stream takes over could come twice (moby#29285): the run's log
  // then said "started" twice (seen in CI).
  it('asks for the live stream only, no replay of the logs', async () => {
    const asked: string[] = [];
    const server = createHttpServer((request, response) => {
      sockets.push(request.socket);
      if (answeredPing(request, response)) return;
      asked.push(request.url ?? '');
      response.setHeader('content-type', 'application/json');
      response.end(
        request.url?.includes('/containers/create') ? JSON.stringify({ Id: 'c'.repeat(64) }) : '',
      );
    });
    const url = await listen(server);
    const [host, port] = url.slice('tcp://'.length).split(':');
    const engine = dockerodeEngine({ url, host: host as string, port: Number(port) });
    // The fake engine reads none of the spec.
    const container = await engine.createContainer('attach-probe', {} as ContainerSpec);
    await container.attach().catch(() => undefined);
    const query = new URL(asked.find((line) => line.includes('/attach')) ?? '', 'http://engine');
    expect(query.searchParams.get('logs')).toBe('false');
    expect(query.searchParams.get('stream')).toBe('true');
  });
});
