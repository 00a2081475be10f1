import { EngineUnavailableError, isKnownError } from '../../errors.js';
import {
  type EngineAddress,
  type EngineVersion,
  engineAddress,
  fetchEngineVersion,
} from '../containers/docker-engine-api.js';
import type { Availability, ProbeRequest } from '../contract.js';
import type { DockerConfig } from './config.js';
import { answered, ENGINE_ANSWER_MS } from './deadline.js';

/** What the engine check needs of an engine: where it is, and how to ask its version. */
export interface VersionedEngine {
  address: string;
  version(signal: AbortSignal): Promise<EngineVersion>;
}

/** The engine check's answer: how `backends list` shows it, and what a run throws. */
export interface EngineCheck {
  availability: Availability;
  /** When the engine cannot be used: the run's error, with the same detail and hint. */
  error?: EngineUnavailableError;
}

const QUESTION = 'is dockerd running?';
const WAY_OUT =
  'start it (`sudo systemctl start docker`, or `dockerd &`), or point DOCKER_HOST or docker_host at a running engine';

/**
 * Asks the engine its version within `ms`: the one check behind both
 * `backends list` and a run, so that they cannot word a failure apart. A
 * stop (Ctrl-C, SIGTERM) ends the wait at once and throws: it is not about
 * the engine.
 */
export async function checkDockerEngine(
  engine: VersionedEngine,
  { ms = ENGINE_ANSWER_MS, stop }: { ms?: number; stop?: AbortSignal | undefined },
): Promise<EngineCheck> {
  const { address } = engine;
  try {
    const { version, apiVersion } = await answered((signal) => engine.version(signal), {
      address,
      what: 'the version request',
      stop,
      ms,
    });
    return {
      availability: {
        available: true,
        detail: `Docker Engine ${version} (API ${apiVersion}) at ${address}`,
      },
    };
  } catch (error) {
    // An engine that does not answer in time says so itself, with its own way out.
    if (error instanceof EngineUnavailableError) return unavailable(error);
    if (isKnownError(error)) throw error;
    const reason = (error as Error).message;
    // `backends list` puts the question in the hint, the run in the message: both are pinned.
    return {
      availability: {
        available: false,
        detail: `cannot reach the Docker engine at ${address}: ${reason}`,
        hint: `${QUESTION} If not, ${WAY_OUT}`,
      },
      error: new EngineUnavailableError(
        `Cannot reach the Docker engine at ${address}: ${QUESTION} (${reason})`,
        { hint: WAY_OUT, cause: error },
      ),
    };
  }
}

/** An engine that cannot be used, worded by the error that says why. */
function unavailable(error: EngineUnavailableError): EngineCheck {
  return {
    availability: {
      available: false,
      detail: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    },
    error,
  };
}

/**
 * For `backends list` (and, with a config, for that config's engine):
 * the version by a plain HTTP request, so that listing loads no engine client.
 */
export async function probeDocker({
  env,
  timeoutMs,
  config,
}: ProbeRequest<Pick<DockerConfig, 'docker_host'>>): Promise<Availability> {
  let address: EngineAddress;
  try {
    address = engineAddress(env, config?.docker_host);
  } catch (error) {
    // An address modelrun cannot use says so itself, with its own way out.
    if (error instanceof EngineUnavailableError) return unavailable(error).availability;
    throw error;
  }
  const engine = { address: address.url, version: () => fetchEngineVersion(address, timeoutMs) };
  return (await checkDockerEngine(engine, { ms: timeoutMs })).availability;
}
