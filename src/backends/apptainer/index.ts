import { execFile } from 'node:child_process';
import type { Availability, BackendDefinition, ProbeOptions } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import type { ApptainerConfig } from './config.js';
import { apptainerConfigSchema } from './config.js';

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
    const { cleanenv } = config as ApptainerConfig;
    return cleanenv === false
      ? [
          {
            path: ['cleanenv'],
            message: "cleanenv is false, so the host's environment leaks into the container",
          },
        ]
      : [];
  },
  launcherCopies(config) {
    const { mpiexec, cpu } = config as ApptainerConfig;
    return launcherCopies(mpiexec, cpu, { mpiexec: ['mpiexec'] }, 'threads through cpu');
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
  async createRunner(config, job, deps) {
    const c = config as ApptainerConfig;
    const [{ createApptainerRunner }, { apptainerDryRun }, { plannedImage }] = await Promise.all([
      import('./runner.js'),
      import('./dry-run.js'),
      import('../containers/apptainer-image.js'),
    ]);
    const image = await plannedImage(c, deps.env);
    return createApptainerRunner(c, job, deps, () => apptainerDryRun(c, job, image));
  },
};
