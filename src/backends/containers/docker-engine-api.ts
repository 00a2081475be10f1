import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { EngineUnavailableError } from '../../errors.js';
import { DEFAULT_DOCKER_HOST } from './docker-host.js';

/** Where the Docker engine listens, as DOCKER_HOST spells it. */
export interface EngineAddress {
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

/**
 * DOCKER_HOST if set, else the config's `docker_host`, else the default
 * socket. An address modelrun cannot use fails here, before anything is
 * staged, as an EngineUnavailableError that says how to reach the engine
 * instead.
 */
export function engineAddress(env: NodeJS.ProcessEnv, configured?: string): EngineAddress {
  const from = env.DOCKER_HOST ? 'DOCKER_HOST' : configured ? 'docker_host' : undefined;
  const url = env.DOCKER_HOST || configured || DEFAULT_DOCKER_HOST;
  const unusable = (why: string, hint: string) =>
    new EngineUnavailableError(`${from ?? 'the Docker engine address'} "${url}" ${why}`, { hint });
  if (url.startsWith('unix://')) {
    // As the docker CLI reads it: unix:// alone is the default socket.
    const socketPath = url.slice('unix://'.length) || DEFAULT_DOCKER_HOST.slice('unix://'.length);
    return { url: `unix://${socketPath}`, socketPath };
  }
  if (/^(?:tcp|https?):\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url.replace(/^tcp:/, 'http:'));
    } catch {
      throw unusable('is not a valid address', TCP_FORM);
    }
    if (parsed.hostname === '') throw unusable('names no host', TCP_FORM);
    const useTls = url.startsWith('https://') || Boolean(env.DOCKER_TLS_VERIFY);
    return {
      url,
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(parsed.port || (useTls ? 2376 : 2375)),
      ...(useTls ? { tls: readTlsFiles(env, unusable) } : {}),
    };
  }
  if (url.startsWith('ssh://'))
    // The SSH transport is left out of the build on purpose (esbuild.config.js).
    throw unusable(
      'is an ssh:// engine, which modelrun does not support',
      "forward the engine's socket over ssh and use that: `ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock user@host &`, then DOCKER_HOST=unix:///tmp/docker.sock; or expose the engine on tcp:// with TLS",
    );
  if (url.startsWith('npipe://'))
    throw unusable(
      'is a Windows named pipe, which modelrun does not support',
      `use a unix:// socket or a tcp:// address, such as ${DEFAULT_DOCKER_HOST}`,
    );
  throw unusable('is not an address modelrun can use', TCP_FORM);
}

const TCP_FORM =
  'use unix:///path/to/docker.sock or tcp://host:port, or unset DOCKER_HOST for the default socket';

function readTlsFiles(
  env: NodeJS.ProcessEnv,
  unusable: (why: string, hint: string) => EngineUnavailableError,
) {
  const dir = env.DOCKER_CERT_PATH || join(env.HOME ?? '', '.docker');
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name));
    } catch (error) {
      throw unusable(
        `needs TLS (DOCKER_TLS_VERIFY or https://), but ${join(dir, name)} cannot be read: ${(error as Error).message}`,
        'put ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker), or unset DOCKER_TLS_VERIFY for a plain tcp:// engine',
      );
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
}

/**
 * Asks the engine for its version with a plain HTTP request, so that
 * neither `backends list` nor a run loads an engine client to check the
 * engine. It pings the engine, as the docker CLI does: the answer's headers
 * carry the engine's version (`Server: Docker/27.3.1 (linux)`) and API
 * version, and the engine answers a ping at once, where it works out a full
 * /version answer (its kernel, containerd and runc) for each request.
 */
export async function fetchEngineVersion(
  address: EngineAddress,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<EngineVersion> {
  const { status, body, headers } = await engineRequest(
    address,
    'GET',
    '/_ping',
    timeoutMs,
    signal,
  );
  if (status !== 200) throw new Error(`the engine answered ${status}: ${body.trim()}`);
  const apiVersion = headers['api-version'];
  if (typeof apiVersion !== 'string' || !/^\d+\.\d+$/.test(apiVersion))
    throw new Error(
      `the engine did not answer as a Docker engine does (${typeof apiVersion === 'string' ? `an Api-Version of ${JSON.stringify(apiVersion.slice(0, 40))}` : 'no Api-Version'}); is DOCKER_HOST pointing at a Docker engine?`,
    );
  const server = headers.server;
  const version =
    typeof server === 'string' ? (/^Docker\/(\S+)/.exec(server)?.[1] ?? server) : 'unknown';
  return { version, apiVersion };
}

/**
 * The engine's answers to a kill or a forced removal that mean nothing is
 * left to do: 404 the container is gone, 409 it is not running or its
 * removal is already under way.
 */
export const ALREADY_DONE: readonly number[] = [404, 409];

const MAX_ANSWER_CHARS = 16 * 1024 * 1024;

/** One plain HTTP request to the engine, for the few calls made without dockerode; `signal` ends it. */
export function engineRequest(
  address: EngineAddress,
  method: string,
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const options = {
      method,
      path,
      timeout: timeoutMs,
      ...(signal === undefined ? {} : { signal }),
      ...(address.socketPath === undefined
        ? { host: address.host, port: address.port, ...(address.tls ?? {}) }
        : // No TLS server name to work out over a socket: Node would test whether "localhost" is an
          // IPv6 address, and compile the regular expression for it (7 ms of a run).
          { socketPath: address.socketPath, servername: '' }),
    };
    // node:https is loaded only for an engine that needs TLS: 4 ms of every run otherwise.
    const request = (
      address.tls === undefined ? httpRequest : process.getBuiltinModule('node:https').request
    )(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        // No answer modelrun asks for is this large: an engine that sends more is not one.
        if (body.length > MAX_ANSWER_CHARS)
          request.destroy(new Error(`an answer larger than ${MAX_ANSWER_CHARS} characters`));
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}
