import { ConfigError } from '../../errors.js';
import type { RunJob } from '../contract.js';
import { processCountArgs } from '../model-command.js';
import { splitCommand } from '../split-command.js';
import { type ApptainerSettingsFields, apptainerSettings } from './apptainer-settings.js';
import { type ApptainerOptions, type ContainerSettings, mountSpec } from './settings.js';

/**
 * The full command line for a run: `[mpiexec -n N] <binary> exec <flags>
 * <image> /bin/sh -c <command>`. Every flag comes from one setting; values
 * of environment variables go through the env file, not argv, where `ps`
 * would show them.
 */
export function apptainerExecArgv(
  settings: ContainerSettings & { apptainer: ApptainerOptions },
): string[] {
  const options = settings.apptainer;
  if (/[,:]/.test(settings.runDir)) {
    throw new ConfigError(
      `apptainer cannot bind ${settings.runDir}: its path contains "," or ":", which --bind reads as separators`,
      {
        hint: 'choose an output_dir (or working_dir) whose path has neither',
      },
    );
  }
  const exec = [
    options.binary,
    'exec',
    ...(options.cleanenv ? ['--cleanenv'] : []),
    ...(options.home !== undefined
      ? ['--home', options.home]
      : options.noHome
        ? ['--no-home']
        : []),
    ...(options.containall ? ['--containall'] : []),
    ...(options.writableTmpfs ? ['--writable-tmpfs'] : []),
    ...(options.nv ? ['--nv'] : []),
    ...(options.rocm ? ['--rocm'] : []),
    '--bind',
    `${settings.runDir}:${settings.mountPath}:rw`,
    ...settings.mounts.flatMap((mount) => ['--bind', mountSpec(mount)]),
    '--pwd',
    settings.workdir,
    '--env-file',
    options.envFile,
    ...(settings.cpus === undefined ? [] : ['--cpus', String(settings.cpus)]),
    ...(settings.memory === undefined ? [] : ['--memory', settings.memory]),
    ...options.extraArgs,
    settings.image,
    '/bin/sh',
    '-c',
    settings.command,
  ];
  if (options.mpi === undefined) return exec;
  const { launcher, processes } = options.mpi;
  return [...splitCommand(launcher), ...processCountArgs(launcher, processes), ...exec];
}

/** The command line for an apptainer config or block, as its runner and the dry run use it. */
export function buildApptainerArgv(
  config: ApptainerSettingsFields,
  job: RunJob,
  image: string,
): string[] {
  return apptainerExecArgv(apptainerSettings(config, job, image));
}
