import type { DockerConfig } from './docker-config.js';
import { dockerConfigSchema } from './docker-config.js';
import { engineAddress, fetchEngineVersion } from './docker-engine.js';
import type { BackendDefinition } from './types.js';

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
    return ['root', '0', '0:0'].includes(String(config.user))
      ? [
          {
            path: ['user'],
            message:
              'the model runs as root, so files it writes to the run directory will be owned by root',
          },
        ]
      : [];
  },
  async probe({ env, timeoutMs }) {
    let url = env.DOCKER_HOST ?? '';
    try {
      const address = engineAddress(env);
      url = address.url;
      const { version, apiVersion } = await fetchEngineVersion(address, timeoutMs);
      return { available: true, detail: `Docker Engine ${version} (API ${apiVersion}) at ${url}` };
    } catch (error) {
      return {
        available: false,
        detail: `cannot reach the Docker engine at ${url}: ${(error as Error).message}`,
        hint: 'is dockerd running? Start it (`sudo systemctl start docker`), or point DOCKER_HOST at a running engine',
      };
    }
  },
  async createRunner(config, job) {
    const c = config as DockerConfig;
    const { dockerDryRun } = await import('./container-dry-run.js');
    const { EngineUnavailableError } = await import('../errors.js');
    const notYet = () =>
      new EngineUnavailableError(
        'running models on the docker backend is not available in this version of modelrun',
        {
          hint: '--dry-run shows what would run; use the local backend to run it for now',
        },
      );
    return {
      start: async () => {
        throw notYet();
      },
      run: async () => {
        throw notYet();
      },
      stop: async () => {},
      describe: () =>
        dockerDryRun(c, job, c.image ?? `(built from ${c.dockerfile} when the run starts)`),
      leftovers: () => [],
    };
  },
};
