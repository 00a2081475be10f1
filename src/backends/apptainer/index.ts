import { execFile } from 'node:child_process';
import { processGroupUndo } from '../../exec/guard.js';
import { secretFileUndo } from '../containers/undo.js';
import { type Availability, defineBackend, type ProbeOptions } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import { apptainerConfigSchema } from './config.js';

const BINARIES = ['apptainer', 'singularity'] as const;

function versionOf(binary: string, { env, timeoutMs }: ProbeOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { env, timeout: timeoutMs }, (error, stdout) => {
      resolve(error === null ? stdout.trim() : undefined);
    });
  });
}

export const apptainerBackend = defineBackend({
  type: 'apptainer',
  description: 'an Apptainer or Singularity container, the usual runtime on HPC clusters',
  configSchema: apptainerConfigSchema,
  summaryFields: ['image', 'definition', 'binary', 'cpu', 'memory', 'nv', 'timeout'],
  template: { required: { image: 'docker://ubuntu:22.04' }, alternatives: ['definition'] },
  warnings({ cleanenv }) {
    return cleanenv === false
      ? [
          {
            path: ['cleanenv'],
            message: "cleanenv is false, so the host's environment leaks into the container",
          },
        ]
      : [];
  },
  launcherCopies({ mpiexec, cpu }) {
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
  async plan(config, job, env) {
    const [{ apptainerDryRun }, { plannedImage }] = await Promise.all([
      import('../containers/dry-run.js'),
      import('./image.js'),
    ]);
    return apptainerDryRun(config, job, await plannedImage(config, env));
  },
  secretFields: [['env_vars']],
  undo: [processGroupUndo, secretFileUndo],
  async createRunner(config, job, deps) {
    const { createApptainerRunner } = await import('./runner.js');
    return createApptainerRunner(config, job, deps);
  },
});
