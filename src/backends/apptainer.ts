import { execFile } from 'node:child_process';
import type { ApptainerConfig } from './apptainer-config.js';
import { apptainerConfigSchema } from './apptainer-config.js';
import type { Availability, BackendDefinition, ProbeOptions } from './types.js';

const BINARIES = ['apptainer', 'singularity'] as const;

function versionOf(binary: string, { env, timeoutMs }: ProbeOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { env, timeout: timeoutMs }, (error, stdout) => {
      resolve(error === null ? stdout.trim() : undefined);
    });
  });
}

export const apptainerBackend: BackendDefinition = {
  type: 'apptainer',
  description: 'an Apptainer or Singularity container, the usual runtime on HPC clusters',
  configSchema: apptainerConfigSchema,
  summaryFields: ['image', 'definition', 'binary', 'cpu', 'memory', 'nv', 'timeout'],
  template: { required: { image: 'docker://ubuntu:22.04' }, alternatives: ['definition'] },
  warnings(config) {
    return config.cleanenv === false
      ? [
          {
            path: ['cleanenv'],
            message: "cleanenv is false, so the host's environment leaks into the container",
          },
        ]
      : [];
  },
  async probe(options): Promise<Availability> {
    const versions = await Promise.all(BINARIES.map((binary) => versionOf(binary, options)));
    const found = BINARIES.flatMap((binary, i) =>
      versions[i] === undefined ? [] : [`${binary}: ${versions[i]}`],
    );
    if (found.length > 0) return { available: true, detail: found.join('; ') };
    return {
      available: false,
      detail: 'neither apptainer nor singularity is on PATH',
      hint: 'on a cluster, try `module load apptainer`; elsewhere see https://apptainer.org/docs/admin/main/installation.html',
    };
  },
  async createRunner(config, job) {
    const c = config as ApptainerConfig;
    const { apptainerDryRun } = await import('./container-dry-run.js');
    const { EngineUnavailableError } = await import('../errors.js');
    const notYet = () =>
      new EngineUnavailableError(
        'running models on the apptainer backend is not available in this version of modelrun',
        {
          hint: '--dry-run shows what would run; use the local backend to run it for now',
        },
      );
    return {
      check: async () => {
        throw notYet();
      },
      start: async () => {
        throw notYet();
      },
      run: async () => {
        throw notYet();
      },
      stop: async () => {},
      describe: () =>
        apptainerDryRun(c, job, c.image ?? `(built from ${c.definition} when the run starts)`),
      leftovers: () => [],
    };
  },
};
