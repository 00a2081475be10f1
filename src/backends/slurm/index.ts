import { stringEnv } from '../../exec/env.js';
import { undoHandler } from '../../exec/guard.js';
import { secretFileUndo } from '../containers/undo.js';
import { type Availability, defineBackend, type ProbeOptions } from '../contract.js';
import { launcherCopies } from '../mpi-copies.js';
import { slurmCommand } from './cli.js';
import { slurmConfigSchema } from './config.js';
import type { SlurmJobTask } from './undo.js';

async function probeSlurm({ env, timeoutMs }: ProbeOptions): Promise<Availability> {
  const vars = stringEnv(env);
  try {
    const ping = await slurmCommand('scontrol', ['ping'], vars, timeoutMs);
    if (ping.code !== 0 || !/\bUP\b/.test(ping.stdout)) {
      return {
        available: false,
        detail: `the Slurm controller does not answer: ${(ping.stdout + ping.stderr).trim()}`,
        hint: 'check that slurmctld runs (`scontrol ping`)',
      };
    }
    const config = await slurmCommand('scontrol', ['show', 'config'], vars, timeoutMs);
    const cluster = /^ClusterName\s*=\s*(\S+)/m.exec(config.stdout)?.[1] ?? 'unknown';
    const version = /^SLURM_VERSION\s*=\s*(\S+)/m.exec(config.stdout)?.[1] ?? 'unknown';
    const partitions = await slurmCommand('sinfo', ['-h', '-o', '%P %a %D'], vars, timeoutMs);
    const list = partitions.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', state, nodes] = line.split(' ');
        return `${name} (${state}, ${nodes} node${nodes === '1' ? '' : 's'})`;
      });
    return {
      available: true,
      detail: `cluster ${cluster}, Slurm ${version}; partitions: ${list.join(', ') || 'none'}`,
    };
  } catch (error) {
    return {
      available: false,
      detail: (error as Error).message,
      hint: 'run modelrun on a login node of the cluster, or load Slurm first (`module load slurm`)',
    };
  }
}

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
  undo: [
    undoHandler<SlurmJobTask>('slurm-job', 'stop', () =>
      import('./undo.js').then((m) => m.cancelAbandonedJob),
    ),
    secretFileUndo,
  ],
  async createRunner(config, job, deps) {
    const { createSlurmRunner } = await import('./runner.js');
    return createSlurmRunner(config, job, deps);
  },
});
