import { ConfigError } from '../../errors.js';
import { shellQuote } from '../../exec/shell.js';
import { secretFilePath } from '../../secret-files.js';
import type { ApptainerConfig } from '../apptainer/config.js';
import type { RunJob } from '../contract.js';
import { processCountArgs, resolveCommand } from '../model-command.js';
import { splitCommand } from '../split-command.js';

/** Where the run's environment file is written: under .modelrun/, mode 0600, never on the command line. */
export function envFilePath(stagingDir: string): string {
  return secretFilePath(stagingDir, 'apptainer');
}

/**
 * The environment the model gets inside the container. PYTHONNOUSERSITE
 * keeps the user's ~/.local site-packages on the host from leaking into the
 * container's Python, a classic source of broken runs on clusters.
 */
export function containerEnv(config: ApptainerConfig): Record<string, string> {
  return { PYTHONNOUSERSITE: '1', ...config.env_vars };
}

/** The env file's text: one `NAME='value'` per line, quoted so that any value arrives as written. */
export function envFileText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${shellQuote(value)}\n`)
    .join('');
}

/**
 * The full command line for a run: `[mpiexec -n N] <binary> exec <flags>
 * <image> /bin/sh -c <command>`. Every flag comes from one config field;
 * values of environment variables go through the env file, not argv, where
 * `ps` would show them.
 */
export function buildApptainerArgv(config: ApptainerConfig, job: RunJob, image: string): string[] {
  const command = resolveCommand(config.executable, job);
  const mountPath = config.mount_path;
  const hostDir = config.working_dir ?? job.stagingDir;
  if (/[,:]/.test(hostDir)) {
    throw new ConfigError(
      `apptainer cannot bind ${hostDir}: its path contains "," or ":", which --bind reads as separators`,
      {
        hint: 'choose an output_dir (or working_dir) whose path has neither',
      },
    );
  }
  const exec = [
    config.binary,
    'exec',
    ...(config.cleanenv ? ['--cleanenv'] : []),
    ...(config.home !== undefined ? ['--home', config.home] : config.no_home ? ['--no-home'] : []),
    ...(config.containall ? ['--containall'] : []),
    ...(config.writable_tmpfs ? ['--writable-tmpfs'] : []),
    ...(config.nv ? ['--nv'] : []),
    ...(config.rocm ? ['--rocm'] : []),
    '--bind',
    `${hostDir}:${mountPath}:rw`,
    ...(config.binds ?? []).flatMap((b) => [
      '--bind',
      `${b.source}:${b.target}${b.mode === undefined ? '' : `:${b.mode}`}`,
    ]),
    '--pwd',
    config.pwd ?? mountPath,
    '--env-file',
    envFilePath(job.stagingDir),
    // With mpiexec, cpu is the number of ranks, each in a container of its own; it is not a CPU limit per rank.
    ...(config.cpu === undefined || config.mpiexec !== undefined
      ? []
      : ['--cpus', String(config.cpu)]),
    ...(config.memory === undefined ? [] : ['--memory', config.memory]),
    ...(config.extra_args ?? []),
    image,
    '/bin/sh',
    '-c',
    command,
  ];
  if (config.mpiexec === undefined) return exec;
  // The hybrid model: the launcher runs outside, one container per rank.
  const launcher = splitCommand(config.mpiexec);
  return [...launcher, ...processCountArgs(config.mpiexec, config.cpu), ...exec];
}
