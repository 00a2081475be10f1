import { join } from 'node:path';
import { undoHandler } from '../../exec/guard.js';
import { secretFileUndo } from '../containers/undo.js';
import { defineBackend } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import { slurmConfigSchema } from './config.js';
import { slurmJobHandle } from './handle.js';
import { probeSlurm } from './probe.js';
import { arrayScriptName, MEMBER_LOGS } from './script-name.js';
import type { SlurmSubmissionTask } from './submission.js';
import type { SlurmJobTask } from './undo.js';

export const slurmBackend = defineBackend({
  type: 'slurm',
  description: 'a batch job on a Slurm cluster, for runs that outgrow one machine',
  configSchema: slurmConfigSchema,
  summaryFields: [
    'queue',
    'nodes',
    'ntasks',
    'cpus_per_task',
    'mem',
    'time_limit',
    'queue_timeout',
    'timeout',
  ],
  template: { required: {}, alternatives: ['mem_per_cpu', 'container'] },
  launcherCopies({ container, ntasks, nodes }) {
    const mpiexec = container?.mpiexec;
    if (container === undefined || typeof mpiexec !== 'string') return undefined;
    // Apptainer's launcher runs in the job, outside the container, and
    // starts the job's tasks (one per node by default); docker's runs inside
    // the container, where it cannot see the job.
    const jobTasks =
      container.type !== 'apptainer'
        ? undefined
        : ntasks !== undefined
          ? { count: ntasks, path: ['ntasks'] }
          : nodes !== undefined
            ? { count: nodes, path: ['nodes'] }
            : { count: 1, path: ['container', 'mpiexec'] };
    return launcherCopies(
      mpiexec,
      typeof container.cpu === 'number' ? container.cpu : undefined,
      {
        mpiexec: ['container', 'mpiexec'],
        ...(jobTasks === undefined ? {} : { fallback: jobTasks }),
      },
      'ntasks: 1, threads through cpus_per_task',
    );
  },
  probe: probeSlurm,
  async plan(config, job, env) {
    const [{ slurmDryRun }, { plannedImage }, { containerAsApptainer }] = await Promise.all([
      import('./dry-run.js'),
      import('../containers/apptainer-image.js'),
      import('./script.js'),
    ]);
    const apptainer = containerAsApptainer(config);
    const image = apptainer === undefined ? undefined : await plannedImage(apptainer, env);
    return slurmDryRun(config, job, image, env);
  },
  secretFields: [['env_vars']],
  handle: slurmJobHandle,
  undo: [
    undoHandler<SlurmJobTask>(
      'slurm-job',
      'stop',
      () => import('./undo.js').then((m) => m.cancelAbandonedJob),
      (task) => `slurm job ${task.id} (scancel ${task.id})`,
    ),
    undoHandler<SlurmSubmissionTask>(
      'slurm-submission',
      'stop',
      () => import('./undo.js').then((m) => m.cancelUnheardSubmission),
      (task) =>
        `the job sbatch may have submitted for ${task.script} (squeue --user=${task.uid} -o '%F|%o', then scancel)`,
    ),
    secretFileUndo,
  ],
  async createRunner(config, job, deps) {
    const { createSlurmRunner } = await import('./runner.js');
    return createSlurmRunner(config, job, deps);
  },
  // The array's script sends each task's output to its member's logs/.
  batchRefuses: {
    output_file: MEMBER_LOGS,
    error_file: MEMBER_LOGS,
  },
  describeBatch: (members, maxParallel, dir) =>
    `the members go to Slurm as one job array per set of resources, usually one: sbatch --array=0-${members - 1}%${Math.min(maxParallel, members)} ${join(dir, '.modelrun', arrayScriptName(0))}. Its task i runs member i's batch script; below is the first member's, and how it would be submitted as a run of its own`,
  async openBatch(options) {
    const { openSlurmArray } = await import('./array.js');
    return openSlurmArray(options);
  },
});
