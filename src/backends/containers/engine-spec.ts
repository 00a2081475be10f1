import { memoryBytes } from '../../config/fields.js';
import { VERSION } from '../../package-info.js';
import { maskEnv } from '../../secrets.js';
import type { RunJob } from '../contract.js';
import type { DockerConfig } from '../docker/config.js';
import { resolveCommand, wrapMpi } from '../model-command.js';

/** The subset of the Engine API's container-create body that modelrun sets. */
export interface ContainerSpec {
  Image: string;
  Cmd: string[];
  WorkingDir: string;
  Env: string[];
  User: string;
  Labels: Record<string, string>;
  Tty: false;
  OpenStdin: false;
  AttachStdin: false;
  AttachStdout: true;
  AttachStderr: true;
  HostConfig: {
    Binds: string[];
    Init: boolean;
    AutoRemove: false;
    NetworkMode: string;
    NanoCpus?: number;
    Memory?: number;
    MemorySwap?: number;
    ShmSize?: number;
    DeviceRequests?: {
      Driver: string;
      Count?: number;
      DeviceIDs?: string[];
      Capabilities: string[][];
    }[];
  };
}

export const LABELS = {
  runId: 'modelrun.run_id',
  stagingDir: 'modelrun.staging_dir',
  version: 'modelrun.version',
} as const;

/** The uid and gid modelrun runs as; containers default to them so outputs stay yours. */
export function invokingIdentity(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/**
 * The container for one run, from the config and the job. Every config
 * field lands in one setting here; the integration tests read them back
 * through the engine's inspect API.
 */
export function buildContainerSpec(
  config: DockerConfig,
  job: RunJob,
  image: string,
  identity: { uid: number; gid: number },
): ContainerSpec {
  const command = wrapMpi(
    resolveCommand(config.executable, job, '`executable:` in the docker backend config'),
    config.mpiexec,
    config.cpu,
  );
  const mountPath = config.mount_path;
  const hostDir = config.working_dir ?? job.stagingDir;
  const memory = config.memory === undefined ? undefined : memoryBytes(config.memory);
  return {
    Image: image,
    Cmd: ['/bin/sh', '-c', command],
    WorkingDir: mountPath,
    Env: Object.entries(config.env_vars ?? {}).map(([name, value]) => `${name}=${value}`),
    // Files the model writes to the bind mount belong to whoever runs modelrun, not to root.
    User: config.user ?? `${identity.uid}:${identity.gid}`,
    Labels: {
      [LABELS.runId]: job.runId,
      [LABELS.stagingDir]: job.stagingDir,
      [LABELS.version]: VERSION,
    },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Binds: [
        `${hostDir}:${mountPath}:rw`,
        ...(config.volumes ?? []).map(
          (v) => `${v.source}:${v.target}${v.mode === undefined ? '' : `:${v.mode}`}`,
        ),
      ],
      // An init process as PID 1 forwards signals to the model and reaps its children.
      Init: true,
      // Removed explicitly after the wait, never by the engine: AutoRemove races the wait.
      AutoRemove: false,
      NetworkMode: config.network,
      ...(config.cpu === undefined ? {} : { NanoCpus: config.cpu * 1e9 }),
      // MemorySwap equal to Memory: no swap on top of the limit.
      ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
      ...(config.shm_size === undefined ? {} : { ShmSize: memoryBytes(config.shm_size) }),
      ...(config.gpus === undefined ? {} : { DeviceRequests: [gpuRequest(config.gpus)] }),
    },
  };
}

/**
 * The NVIDIA driver takes no "all capabilities" shorthand through the API,
 * so the capability list is always spelled out.
 */
function gpuRequest(gpus: NonNullable<DockerConfig['gpus']>) {
  const base = { Driver: 'nvidia', Capabilities: [['gpu']] };
  if (gpus === 'all') return { ...base, Count: -1 };
  if (typeof gpus === 'number') return { ...base, Count: gpus };
  return { ...base, DeviceIDs: gpus.map(String) };
}

/** The spec as --dry-run prints it: secrets in Env masked. */
export function maskedSpec(spec: ContainerSpec): ContainerSpec {
  const env = Object.fromEntries(
    spec.Env.map((entry) => [
      entry.slice(0, entry.indexOf('=')),
      entry.slice(entry.indexOf('=') + 1),
    ]),
  );
  return { ...spec, Env: Object.entries(maskEnv(env)).map(([name, value]) => `${name}=${value}`) };
}
