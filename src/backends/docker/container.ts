import { dockerSettings } from '../containers/docker-settings.js';
import { engineSpecDryRun } from '../containers/dry-run.js';
import { type ContainerSpec, engineSpec } from '../containers/engine-spec.js';
import {
  type ContainerSettings,
  type DockerRunOptions,
  invokingIdentity,
} from '../containers/settings.js';
import type { DryRun, RunJob } from '../contract.js';
import type { DockerConfig } from './config.js';

/** The settings of the docker backend's container, from its config. */
export function containerSettings(
  config: DockerConfig,
  job: RunJob,
  image: string,
  identity = invokingIdentity(),
): ContainerSettings & { docker: DockerRunOptions } {
  return dockerSettings(config, job, image, {
    identity,
    ownField: '`executable:` in the docker backend config',
  });
}

/** The container for one run, as the engine creates it. */
export function buildContainerSpec(
  config: DockerConfig,
  job: RunJob,
  image: string,
  identity: { uid: number; gid: number },
): ContainerSpec {
  return engineSpec(containerSettings(config, job, image, identity));
}

/** What a Docker run would create: the container spec as the engine receives it, secrets masked. */
export function dockerDryRun(config: DockerConfig, job: RunJob, image: string): DryRun {
  return engineSpecDryRun(containerSettings(config, job, image), config.timeout);
}
