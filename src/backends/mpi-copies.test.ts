import { describe, expect, it } from 'vitest';
import { apptainerBackend } from './apptainer.js';
import { dockerBackend } from './docker.js';
import { launcherProcessCount } from './model-command.js';
import { slurmBackend } from './slurm.js';
import type { BackendDefinition } from './types.js';

const warned = (backend: BackendDefinition, config: Record<string, unknown>) =>
  (backend.warnings?.(config) ?? []).filter((w) => w.path.includes('mpiexec'));

const APPTAINER = { type: 'apptainer', image: 'docker://busybox' };
const slurmApptainer = (job: Record<string, unknown>, container: Record<string, unknown>) => ({
  type: 'slurm',
  ...job,
  container: { ...APPTAINER, ...container },
});

describe('the warning for an mpiexec that starts several copies of the command', () => {
  it.each([
    // The serial wave model under srun in a 4-task job: 4 copies into one staging dir.
    [
      'slurm, srun in a 4-task job',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun' }),
      4,
    ],
    ['slurm, srun on 2 nodes', slurmBackend, slurmApptainer({ nodes: 2 }, { mpiexec: 'srun' }), 2],
    ['slurm, cpu gives -n', slurmBackend, slurmApptainer({}, { mpiexec: 'srun', cpu: 4 }), 4],
    [
      'slurm, the launcher gives -n',
      slurmBackend,
      slurmApptainer({ ntasks: 1 }, { mpiexec: 'mpirun -np 8' }),
      8,
    ],
    [
      'slurm, srun in a 1-task job',
      slurmBackend,
      slurmApptainer({ ntasks: 1 }, { mpiexec: 'srun' }),
      undefined,
    ],
    [
      'slurm, srun in a job of default size',
      slurmBackend,
      slurmApptainer({}, { mpiexec: 'srun' }),
      undefined,
    ],
    [
      'slurm, a count modelrun cannot read',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun -n $RANKS' }),
      undefined,
    ],
    ['slurm, no mpiexec', slurmBackend, slurmApptainer({ ntasks: 4 }, {}), undefined],
    [
      'slurm, docker in the job: mpirun inside the container, with cpu',
      slurmBackend,
      {
        type: 'slurm',
        ntasks: 4,
        container: { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 2 },
      },
      2,
    ],
    [
      'slurm, docker in the job: mpirun inside the container cannot see the job',
      slurmBackend,
      { type: 'slurm', ntasks: 4, container: { type: 'docker', image: 'x', mpiexec: 'mpirun' } },
      undefined,
    ],
    [
      'docker, mpirun with cpu 8',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 8 },
      8,
    ],
    [
      'docker, mpirun with cpu 1',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 1 },
      undefined,
    ],
    [
      'docker, mpirun without a count',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun' },
      undefined,
    ],
    ['apptainer, srun with cpu 4', apptainerBackend, { ...APPTAINER, mpiexec: 'srun', cpu: 4 }, 4],
    [
      'apptainer, srun -n 1',
      apptainerBackend,
      { ...APPTAINER, mpiexec: 'srun -n 1', cpu: 4 },
      undefined,
    ],
  ] as [string, BackendDefinition, Record<string, unknown>, number | undefined][])(
    '%s',
    (_name, backend, config, copies) => {
      const warnings = warned(backend, config);
      if (copies === undefined) {
        expect(warnings).toEqual([]);
        return;
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toMatch(
        new RegExp(
          `^mpiexec starts ${copies} copies of the command: right for an MPI program, .* would run ${copies} times over .*; for such a model remove mpiexec: `,
        ),
      );
    },
  );

  it('points a slurm user at cpus_per_task, and names the field in the container block', () => {
    const [warning] = warned(slurmBackend, slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun' }));
    expect(warning?.path).toEqual(['container', 'mpiexec']);
    expect(warning?.message).toMatch(/set ntasks to 1 and give it threads with cpus_per_task$/);
  });

  it('keeps the other warnings of a backend', () => {
    const warnings = apptainerBackend.warnings?.({
      ...APPTAINER,
      cleanenv: false,
      mpiexec: 'srun',
      cpu: 2,
    });
    expect(warnings?.map((w) => w.path)).toEqual([['cleanenv'], ['mpiexec']]);
  });
});

describe('launcherProcessCount', () => {
  it.each([
    ['mpirun', undefined],
    ['srun --mpi=pmix', undefined],
    ['srun -c 8', undefined],
    ['mpirun -npernode 2', undefined],
    ['mpirun -n 8', 8],
    ['mpirun -n8', 8],
    ['mpirun -np 16 --bind-to core', 16],
    ['mpirun --np=4', 4],
    ['srun --ntasks=8', 8],
    ['srun --ntasks 8', 8],
    ['srun -n $RANKS', 'unknown'],
  ] as [string, number | 'unknown' | undefined][])('%j → %j', (mpiexec, count) => {
    expect(launcherProcessCount(mpiexec)).toBe(count);
  });
});
