import { Agent, type AgentOptions } from 'node:http';
import Docker from 'dockerode';
import type { EngineAddress } from '../containers/docker-engine-api.js';

/** A dockerode client for the engine at `address`. Its own module, so that dockerode is loaded only when it is used. */
export function connectDockerode(address: EngineAddress): Docker {
  if (address.socketPath !== undefined) {
    // docker-modem takes an `agent`, which @types/dockerode does not list.
    const options: Docker.DockerOptions & { agent: Agent } = {
      socketPath: address.socketPath,
      agent: socketAgent(),
    };
    return new Docker(options);
  }
  return new Docker({
    host: address.host,
    port: address.port,
    protocol: address.tls === undefined ? 'http' : 'https',
    ...(address.tls ?? {}),
  });
}

/**
 * Node's own agent for a Unix socket, as its global agent is set up, but
 * with no TLS server name to work out: Node would test whether "localhost"
 * is an IPv6 address for every request, and the first test compiles a
 * regular expression that cost 10 ms of every docker run.
 */
function socketAgent(): Agent {
  const options: AgentOptions & { servername: string } = {
    keepAlive: true,
    scheduling: 'lifo',
    timeout: 5000,
    servername: '',
  };
  return new Agent(options);
}
