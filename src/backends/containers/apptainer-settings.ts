import type { RunJob } from '../contract.js';
import { resolveCommand } from '../model-command.js';
import { containerEnv, envFilePath } from './apptainer-env.js';
import type { ApptainerContainerConfig } from './apptainer-fields.js';
import { runLabels } from './labels.js';
import type { ApptainerOptions, ContainerSettings, RunWideFields } from './settings.js';

/** An apptainer config or block with the run-wide fields it takes from around it. */
export type ApptainerSettingsFields = Omit<ApptainerContainerConfig, 'type'> & RunWideFields;

/**
 * The settings of an apptainer container: the apptainer backend's config,
 * or a Slurm job's apptainer block with the job's env_vars and working_dir.
 * The MPI launcher runs outside, one container per rank.
 */
export function apptainerSettings(
  config: ApptainerSettingsFields,
  job: RunJob,
  image: string,
): ContainerSettings & { apptainer: ApptainerOptions } {
  const mpiexec = config.mpiexec;
  return {
    image,
    command: resolveCommand(config.executable, job),
    runDir: config.working_dir ?? job.stagingDir,
    mountPath: config.mount_path,
    mounts: config.binds ?? [],
    workdir: config.pwd ?? config.mount_path,
    env: containerEnv(config),
    // With mpiexec, cpu is the number of ranks, each in a container of its own; it is not a CPU limit per rank.
    cpus: mpiexec === undefined ? config.cpu : undefined,
    memory: config.memory,
    labels: runLabels(job),
    apptainer: {
      binary: config.binary,
      cleanenv: config.cleanenv,
      home: config.home,
      noHome: config.no_home,
      containall: config.containall,
      writableTmpfs: config.writable_tmpfs,
      nv: config.nv,
      rocm: config.rocm,
      envFile: envFilePath(job.stagingDir),
      extraArgs: config.extra_args ?? [],
      ...(mpiexec === undefined ? {} : { mpi: { launcher: mpiexec, processes: config.cpu } }),
    },
  };
}
