import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** Where the Docker engine listens, as DOCKER_HOST spells it. */
export interface EngineAddress {
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

/** DOCKER_HOST if set, else the config's `docker_host`, else the default socket. */
export function engineAddress(env: NodeJS.ProcessEnv, configured?: string): EngineAddress {
  const url = env.DOCKER_HOST || configured || DEFAULT_DOCKER_HOST;
  if (url.startsWith('unix://')) return { url, socketPath: url.slice('unix://'.length) };
  if (url.startsWith('tcp://') || url.startsWith('http://') || url.startsWith('https://')) {
    const parsed = new URL(url.replace(/^tcp:/, 'http:'));
    const useTls = url.startsWith('https://') || Boolean(env.DOCKER_TLS_VERIFY);
    return {
      url,
      host: parsed.hostname,
      port: Number(parsed.port || (useTls ? 2376 : 2375)),
      ...(useTls ? { tls: readTlsFiles(env) } : {}),
    };
  }
  throw new Error(
    `unsupported DOCKER_HOST "${url}": use unix:///path/to/docker.sock or tcp://host:port`,
  );
}

function readTlsFiles(env: NodeJS.ProcessEnv) {
  const dir = env.DOCKER_CERT_PATH || join(env.HOME ?? '', '.docker');
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
}

/**
 * Asks the engine for its version with a plain HTTP request, so that
 * `backends list` can report on Docker without loading an engine client.
 */
export async function fetchEngineVersion(
  address: EngineAddress,
  timeoutMs: number,
): Promise<EngineVersion> {
  const { status, body } = await engineRequest(address, 'GET', '/version', timeoutMs);
  if (status !== 200) throw new Error(`the engine answered ${status}: ${body.trim()}`);
  try {
    const parsed = JSON.parse(body) as { Version?: string; ApiVersion?: string };
    return { version: parsed.Version ?? 'unknown', apiVersion: parsed.ApiVersion ?? 'unknown' };
  } catch {
    throw new Error(
      'the engine did not answer with JSON; is DOCKER_HOST pointing at a Docker engine?',
    );
  }
}

/**
 * The engine's answers to a kill or a forced removal that mean nothing is
 * left to do: 404 the container is gone, 409 it is not running or its
 * removal is already under way.
 */
export const ALREADY_DONE: readonly number[] = [404, 409];

/** One plain HTTP request to the engine, for the few calls made without dockerode. */
export function engineRequest(
  address: EngineAddress,
  method: string,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = {
      method,
      path,
      timeout: timeoutMs,
      ...(address.socketPath === undefined
        ? { host: address.host, port: address.port, ...(address.tls ?? {}) }
        : { socketPath: address.socketPath }),
    };
    const request = (address.tls === undefined ? httpRequest : httpsRequest)(
      options,
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}
