import { EngineUnavailableError } from '../../errors.js';
import type { BackendDefinition } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import type { DockerConfig } from './config.js';
import { dockerConfigSchema } from './config.js';
import { engineAddress, fetchEngineVersion } from './engine.js';

export const dockerBackend: BackendDefinition = {
  type: 'docker',
  description: 'a Docker container, through the Docker Engine API',
  configSchema: dockerConfigSchema,
  summaryFields: ['image', 'dockerfile', 'cpu', 'memory', 'gpus', 'network', 'timeout'],
  template: {
    required: { image: 'ubuntu:22.04' },
    alternatives: ['dockerfile', 'build_context', 'build_args'],
  },
  warnings(config) {
    const { user } = config as DockerConfig;
    return ['root', '0', '0:0'].includes(String(user))
      ? [
          {
            path: ['user'],
            message:
              'the model runs as root, so files it writes to the run directory will be owned by root',
          },
        ]
      : [];
  },
  launcherCopies(config) {
    const { mpiexec, cpu } = config as DockerConfig;
    return launcherCopies(mpiexec, cpu, { mpiexec: ['mpiexec'] }, 'threads through cpu');
  },
  async probe({ env, timeoutMs }) {
    let url = env.DOCKER_HOST ?? '';
    try {
      const address = engineAddress(env);
      url = address.url;
      const { version, apiVersion } = await fetchEngineVersion(address, timeoutMs);
      return { available: true, detail: `Docker Engine ${version} (API ${apiVersion}) at ${url}` };
    } catch (error) {
      // An address modelrun cannot use says so itself, with its own way out.
      if (error instanceof EngineUnavailableError)
        return {
          available: false,
          detail: error.message,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
        };
      return {
        available: false,
        detail: `cannot reach the Docker engine at ${url}: ${(error as Error).message}`,
        hint: 'is dockerd running? Start it (`sudo systemctl start docker`), or point DOCKER_HOST at a running engine',
      };
    }
  },
  async createRunner(config, job, deps) {
    const c = config as DockerConfig;
    // Loaded only when a model runs on Docker; dockerode itself at the first engine call.
    const [{ createDockerRunner }, { dockerodeEngine }, { dockerDryRun }] = await Promise.all([
      import('./runner.js'),
      import('./dockerode-engine.js'),
      import('./container.js'),
    ]);
    const engine = dockerodeEngine(engineAddress(deps.env, c.docker_host));
    const image =
      c.image ?? `(built from ${c.dockerfile} in ${c.build_context} when the run starts)`;
    return createDockerRunner(c, job, deps, engine, () => dockerDryRun(c, job, image));
  },
};
