import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { EngineUnavailableError } from '../../errors.js';
import { engineAddress } from '../containers/docker-engine-api.js';
import type { RunJob } from '../contract.js';
import { dockerConfigSchema } from './config.js';
import { dockerodeEngine } from './dockerode-engine.js';
import { dockerBackend } from './index.js';
import { createDockerRunner } from './runner.js';

/**
 * `backends list` and a run ask the engine through one check: for the same
 * failure they give the same detail and the same way out, each in its own
 * frame. The run goes through dockerode, as a real run does; list through
 * its plain HTTP request.
 */

const tree = makeTree({ 'staging/': '' });
afterAll(() => tree.remove());
// dockerode loads at the first call, which must not eat into the short deadline below.
beforeAll(() => import('./dockerode-connect.js'));

const JOB: RunJob = { runId: 'probe-test', stagingDir: tree.path('staging'), modelCommand: 'true' };
const config = dockerConfigSchema(diskPathContext(tree.root)).parse({
  type: 'docker',
  image: 'busybox',
});
const ANSWER_MS = 300;

/** What a run's engine check throws, for the engine `env` names. */
async function runCheck(env: NodeJS.ProcessEnv): Promise<EngineUnavailableError> {
  const engine = dockerodeEngine(engineAddress(env));
  const runner = createDockerRunner(config, JOB, { env, status: () => {} }, engine, ANSWER_MS);
  const error = await runner.check().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineUnavailableError);
  return error as EngineUnavailableError;
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port that refuses connections: listened on, then closed. */
async function refusingAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `tcp://127.0.0.1:${port}`;
}

/** Accepts connections and never writes a byte: a hung engine. */
async function silentAddress(): Promise<string> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `tcp://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('the engine check, for backends list and for a run', () => {
  it('gives the same reason and way out when the engine refuses', async () => {
    const address = await refusingAddress();
    const env = { DOCKER_HOST: address };
    const listed = await dockerBackend.probe({ env, timeoutMs: ANSWER_MS * 10 });
    const error = await runCheck(env);
    const reason = `connect ECONNREFUSED ${address.slice('tcp://'.length)}`;
    const wayOut =
      'start it (`sudo systemctl start docker`, or `dockerd &`), or point DOCKER_HOST or docker_host at a running engine';
    expect(listed).toEqual({
      available: false,
      detail: `cannot reach the Docker engine at ${address}: ${reason}`,
      hint: `is dockerd running? If not, ${wayOut}`,
    });
    expect(error.message).toBe(
      `Cannot reach the Docker engine at ${address}: is dockerd running? (${reason})`,
    );
    expect(error.hint).toBe(wayOut);
  });

  it('gives the very same detail and hint when the engine never answers', async () => {
    const env = { DOCKER_HOST: await silentAddress() };
    const listed = await dockerBackend.probe({ env, timeoutMs: ANSWER_MS });
    const error = await runCheck(env);
    expect(listed.available).toBe(false);
    expect(listed.detail).toMatch(/does not answer: no reply to the version request within 0.3 s/);
    expect(error.message).toBe(listed.detail);
    expect(error.hint).toBe(listed.hint);
  });

  it('names an address modelrun cannot use the same way', async () => {
    const env = { DOCKER_HOST: 'ssh://me@build-host' };
    const listed = await dockerBackend.probe({ env, timeoutMs: ANSWER_MS });
    const error = await dockerBackend
      .createRunner(config, JOB, { env, status: () => {} })
      .catch((e: unknown) => e as EngineUnavailableError);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(listed).toEqual({
      available: false,
      detail: (error as EngineUnavailableError).message,
      hint: (error as EngineUnavailableError).hint,
    });
    expect(listed.detail).toMatch(/is an ssh:\/\/ engine/);
  });
});
