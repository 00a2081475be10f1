import type { Mount } from '../../config/mounts.js';

/** GPUs for a docker container: all of them, a count, or device ids. */
export type GpuRequest = 'all' | number | (string | number)[];

/** What only `docker run` takes: the engine API's caller removes and pulls by itself. */
export interface DockerRunOptions {
  remove: boolean;
  pull: 'missing' | 'always' | 'never';
}

/** What only `apptainer exec` takes. */
export interface ApptainerOptions {
  binary: string;
  cleanenv: boolean;
  /** --home src[:dst], which replaces --no-home. */
  home?: string;
  noHome: boolean;
  containall: boolean;
  writableTmpfs: boolean;
  nv: boolean;
  rocm: boolean;
  /** The file the container reads its variables from, on the host: values never go on the command line. */
  envFile: string;
  extraArgs: string[];
  /**
   * The hybrid MPI model: the launcher runs outside, one container per rank.
   * Split when the line is rendered, so that a bad launcher is reported after
   * a bad bind, as it always was.
   */
  mpi?: { launcher: string; processes?: number };
}

/**
 * One container's settings, whichever engine runs it: built once from a
 * docker config, an apptainer config or a Slurm job's `container:` block,
 * and rendered as the Engine API's create body (engine-spec.ts), a
 * `docker run` line (docker-run-argv.ts) or an `apptainer exec` line
 * (apptainer-exec.ts). Apptainer runs as its caller, on the host's network,
 * with no labels, so its line renders neither `user`, `network` nor `labels`.
 */
export interface ContainerSettings {
  image: string;
  /** The command `/bin/sh -c` runs in the container, an MPI launcher inside it included. */
  command: string;
  /** The run's folder on the host (the staging dir or working_dir), mounted read-write at mountPath. */
  runDir: string;
  mountPath: string;
  /** Further host paths, after the run's folder, in the config's order. */
  mounts: Mount[];
  /** Where the command starts, inside the container. */
  workdir: string;
  /** The model's variables, with their values; each renderer decides how values travel. */
  env: Record<string, string>;
  /** user[:group]; unset, the engine's own default. */
  user?: string;
  cpus?: number;
  /** Memory limit as docker and apptainer write sizes: "512m", "2g", or bytes without a unit. */
  memory?: string;
  /** Size of /dev/shm, written as memory is. */
  shmSize?: string;
  gpus?: GpuRequest;
  network?: string;
  labels: Record<string, string>;
  docker?: DockerRunOptions;
  apptainer?: ApptainerOptions;
}

/** The fields a container block takes from the config around it: a Slurm job's, or its own backend's. */
export interface RunWideFields {
  env_vars?: Record<string, string> | undefined;
  working_dir?: string | undefined;
}

/** The uid and gid modelrun runs as; containers default to them so outputs stay yours. */
export function invokingIdentity(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** A mount as docker's --volume and apptainer's --bind both write it: source:target[:mode]. */
export function mountSpec(mount: Mount): string {
  return `${mount.source}:${mount.target}${mount.mode === undefined ? '' : `:${mount.mode}`}`;
}
