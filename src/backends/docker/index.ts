import { undoHandler } from '../../exec/guard.js';
import { dockerContainerHandle } from '../containers/docker-handle.js';
import type { DockerContainerTask } from '../containers/docker-undo.js';
import { defineBackend, type RunJob } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import { type DockerConfig, dockerConfigSchema } from './config.js';

/** The image a run uses, as a dry run names it before any build. */
function plannedImage(config: DockerConfig): string {
  return (
    config.image ??
    `(built from ${config.dockerfile} in ${config.build_context} when the run starts)`
  );
}

export const dockerBackend = defineBackend({
  type: 'docker',
  description: 'a Docker container, through the Docker Engine API',
  configSchema: dockerConfigSchema,
  summaryFields: ['image', 'dockerfile', 'cpu', 'memory', 'gpus', 'network', 'timeout'],
  template: {
    required: { image: 'ubuntu:22.04' },
    alternatives: ['dockerfile', 'build_context', 'build_args'],
  },
  warnings({ user }) {
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
  launcherCopies({ mpiexec, cpu }) {
    return launcherCopies(mpiexec, cpu, { mpiexec: ['mpiexec'] }, 'threads through cpu');
  },
  // Node's HTTP client is a tenth of a local run's start-up: loaded only to reach the engine.
  probe: async (request) => (await import('./probe.js')).probeDocker(request),
  async plan(config, job: RunJob) {
    const { dockerDryRun } = await import('./container.js');
    return dockerDryRun(config, job, plannedImage(config));
  },
  secretFields: [['env_vars']],
  handle: dockerContainerHandle,
  undo: [
    undoHandler<DockerContainerTask>(
      'docker-container',
      'stop',
      () => import('../containers/docker-undo.js').then((m) => m.removeAbandonedContainer),
      (task) =>
        `container ${task.id.slice(0, 12)} (docker ${task.remove ? 'rm -f' : 'kill'} ${task.id.slice(0, 12)})`,
    ),
  ],
  async createRunner(config, job, deps) {
    // Loaded only when a model runs on Docker; dockerode itself at the first engine call.
    const [{ createDockerRunner }, { dockerodeEngine }, { engineAddress }] = await Promise.all([
      import('./runner.js'),
      import('./dockerode-engine.js'),
      import('../containers/docker-engine-api.js'),
    ]);
    const engine = dockerodeEngine(engineAddress(deps.env, config.docker_host));
    return createDockerRunner(config, job, deps, engine);
  },
});
