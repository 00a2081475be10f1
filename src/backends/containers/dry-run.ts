import { maskEnv } from '../../secrets.js';
import type { ApptainerConfig } from '../apptainer/config.js';
import type { DryRun, RunJob } from '../contract.js';
import type { DockerConfig } from '../docker/config.js';
import { buildApptainerArgv, containerEnv, envFilePath } from './apptainer-exec.js';
import { buildContainerSpec, invokingIdentity, maskedSpec } from './engine-spec.js';

/** What a Docker run would create: the container spec as the engine receives it, secrets masked. */
export function dockerDryRun(config: DockerConfig, job: RunJob, image: string): DryRun {
  const spec = maskedSpec(buildContainerSpec(config, job, image, invokingIdentity()));
  return {
    lines: [
      ['image', spec.Image],
      ['command', JSON.stringify(spec.Cmd)],
      ['working dir', spec.WorkingDir],
      ['user', spec.User],
      ['binds', spec.HostConfig.Binds.join(', ')],
      ['environment', spec.Env.length === 0 ? '(none)' : spec.Env.join(' ')],
      ['container spec', JSON.stringify(spec)],
      ['timeout', `${config.timeout} s`],
    ],
    data: { backend: 'docker', container: spec, timeout_s: config.timeout },
  };
}

/** What an Apptainer run would execute: the full argv, and the env file's contents, secrets masked. */
export function apptainerDryRun(config: ApptainerConfig, job: RunJob, image: string): DryRun {
  const argv = buildApptainerArgv(config, job, image);
  const env = maskEnv(containerEnv(config));
  return {
    lines: [
      ['argv', JSON.stringify(argv)],
      ['env file', envFilePath(job.stagingDir)],
      ...Object.entries(env).map(([name, value]): [string, string] => [`  ${name}`, value]),
      ['timeout', `${config.timeout} s`],
    ],
    data: {
      backend: 'apptainer',
      argv,
      env_file: envFilePath(job.stagingDir),
      env,
      timeout_s: config.timeout,
    },
  };
}
