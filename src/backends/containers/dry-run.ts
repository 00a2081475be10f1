import { maskEnv } from '../../secrets.js';
import type { DryRun } from '../contract.js';
import { apptainerExecArgv } from './apptainer-exec.js';
import { engineSpec, maskedSpec } from './engine-spec.js';
import type { ApptainerOptions, ContainerSettings } from './settings.js';

/** What a Docker run would create: the container spec as the engine receives it, secrets masked. */
export function engineSpecDryRun(settings: ContainerSettings, timeout: number): DryRun {
  const spec = maskedSpec(engineSpec(settings));
  return {
    lines: [
      ['image', spec.Image],
      ['command', JSON.stringify(spec.Cmd)],
      ['working dir', spec.WorkingDir],
      ['user', spec.User],
      ['binds', spec.HostConfig.Binds.join(', ')],
      ['environment', spec.Env.length === 0 ? '(none)' : spec.Env.join(' ')],
      ['container spec', JSON.stringify(spec)],
      ['timeout', `${timeout} s`],
    ],
    data: { backend: 'docker', container: spec, timeout_s: timeout },
  };
}

/** What an Apptainer run would execute: the full argv, and the env file's contents, secrets masked. */
export function apptainerExecDryRun(
  settings: ContainerSettings & { apptainer: ApptainerOptions },
  timeout: number,
): DryRun {
  const argv = apptainerExecArgv(settings);
  const env = maskEnv(settings.env);
  const envFile = settings.apptainer.envFile;
  return {
    lines: [
      ['argv', JSON.stringify(argv)],
      ['env file', envFile],
      ...Object.entries(env).map(([name, value]): [string, string] => [`  ${name}`, value]),
      ['timeout', `${timeout} s`],
    ],
    data: { backend: 'apptainer', argv, env_file: envFile, env, timeout_s: timeout },
  };
}
