import Docker from 'dockerode';
import type { EngineAddress } from '../containers/docker-engine-api.js';

/** A dockerode client for the engine at `address`. Its own module, so that dockerode is loaded only when it is used. */
export function connectDockerode(address: EngineAddress): Docker {
  return new Docker(
    address.socketPath !== undefined
      ? { socketPath: address.socketPath }
      : {
          host: address.host,
          port: address.port,
          protocol: address.tls === undefined ? 'http' : 'https',
          ...(address.tls ?? {}),
        },
  );
}
