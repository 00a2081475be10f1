import { processGroupUndo } from '../../exec/guard.js';
import { processGroupHandle } from '../../exec/process-handle.js';
import { secretFileUndo } from '../containers/undo.js';
import { defineBackend } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import { apptainerConfigSchema } from './config.js';
import { probeApptainer } from './probe.js';

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
  probe: probeApptainer,
  async plan(config, job, env) {
    const [{ apptainerDryRun }, { plannedImage }] = await Promise.all([
      import('./dry-run.js'),
      import('../containers/apptainer-image.js'),
    ]);
    return apptainerDryRun(config, job, await plannedImage(config, env));
  },
  secretFields: [['env_vars']],
  handle: processGroupHandle,
  undo: [processGroupUndo, secretFileUndo],
  async createRunner(config, job, deps) {
    const { createApptainerRunner } = await import('./runner.js');
    return createApptainerRunner(config, job, deps);
  },
});
