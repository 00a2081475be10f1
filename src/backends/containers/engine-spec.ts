import { memoryBytes } from '../../config/fields.js';
import { maskEnv } from '../../secrets.js';
import { type ContainerSettings, type GpuRequest, mountSpec } from './settings.js';

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

/**
 * The container as the Engine API creates it. Every setting lands in one
 * field here; the integration tests read them back through the engine's
 * inspect API.
 */
export function engineSpec(settings: ContainerSettings): ContainerSpec {
  const memory = settings.memory === undefined ? undefined : memoryBytes(settings.memory);
  return {
    Image: settings.image,
    Cmd: ['/bin/sh', '-c', settings.command],
    WorkingDir: settings.workdir,
    Env: Object.entries(settings.env).map(([name, value]) => `${name}=${value}`),
    // Empty: the image's own user.
    User: settings.user ?? '',
    Labels: { ...settings.labels },
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Binds: [`${settings.runDir}:${settings.mountPath}:rw`, ...settings.mounts.map(mountSpec)],
      // An init process as PID 1 forwards signals to the model and reaps its children.
      Init: true,
      // Removed explicitly after the wait, never by the engine: AutoRemove races the wait.
      AutoRemove: false,
      NetworkMode: settings.network ?? 'default',
      ...(settings.cpus === undefined ? {} : { NanoCpus: settings.cpus * 1e9 }),
      // MemorySwap equal to Memory: no swap on top of the limit.
      ...(memory === undefined ? {} : { Memory: memory, MemorySwap: memory }),
      ...(settings.shmSize === undefined ? {} : { ShmSize: memoryBytes(settings.shmSize) }),
      ...(settings.gpus === undefined ? {} : { DeviceRequests: [gpuRequest(settings.gpus)] }),
    },
  };
}

/**
 * The NVIDIA driver takes no "all capabilities" shorthand through the API,
 * so the capability list is always spelled out.
 */
function gpuRequest(gpus: GpuRequest) {
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
