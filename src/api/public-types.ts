import type { ApptainerConfig } from '../backends/apptainer/config.js';
import type { DockerConfig } from '../backends/docker/config.js';
import type { LocalConfig } from '../backends/local/index.js';
import type { SlurmConfig } from '../backends/slurm/config.js';
import type { ArchiveConfig } from '../postprocess/archive.js';
import type { ChecksumConfig } from '../postprocess/checksum.js';
import type { CommandPostprocessorConfig } from '../postprocess/command.js';
import type { NoopConfig } from '../postprocess/noop.js';

/**
 * The library's public types. Internal code keeps wider types of its own
 * (any backend is `{ type: string } & …` to the pipeline); these are what a
 * caller can narrow by `type`, and they mention nothing from @types/node, so
 * a consumer compiles without it.
 */

/** A validated backend config; narrow it by `type`. */
export type BackendConfig = LocalConfig | DockerConfig | ApptainerConfig | SlurmConfig;

/** A validated postprocessor config; narrow it by `type`. */
export type PostprocessorConfig =
  | ArchiveConfig
  | ChecksumConfig
  | CommandPostprocessorConfig
  | NoopConfig;

/** Environment variables, as process.env holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Where output is copied: a Node stream such as process.stdout, or anything with write(). */
export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
}

export type {
  ApptainerConfig,
  ArchiveConfig,
  ChecksumConfig,
  CommandPostprocessorConfig,
  DockerConfig,
  LocalConfig,
  NoopConfig,
  SlurmConfig,
};
