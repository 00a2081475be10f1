import { describe, expect, it } from 'vitest';
import { apptainerBackend } from './apptainer/index.js';
import type { BackendDefinition } from './contract.js';
import { dockerBackend } from './docker/index.js';
import { launcherProcessCount } from './model-command.js';
import { slurmBackend } from './slurm/index.js';

const APPTAINER = { type: 'apptainer', image: 'docker://busybox' };
const slurmApptainer = (job: Record<string, unknown>, container: Record<string, unknown>) => ({
  type: 'slurm',
  ...job,
  container: { ...APPTAINER, ...container },
});
const AT_MPIEXEC = ['mpiexec'];
const IN_CONTAINER = ['container', 'mpiexec'];
type Expected = [copies: number | undefined, path: (string | number)[]] | undefined;

describe("the copies of the command a backend's mpiexec starts, and the field that says so", () => {
  it.each([
    // The serial wave model under srun in a 4-task job: 4 copies into one staging dir.
    [
      'slurm, srun in a 4-task job',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun' }),
      [4, ['ntasks']],
    ],
    [
      'slurm, srun on 2 nodes',
      slurmBackend,
      slurmApptainer({ nodes: 2 }, { mpiexec: 'srun' }),
      [2, ['nodes']],
    ],
    [
      'slurm, cpu gives -n',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun', cpu: 4 }),
      [4, IN_CONTAINER],
    ],
    [
      'slurm, the launcher gives -n',
      slurmBackend,
      slurmApptainer({ ntasks: 1 }, { mpiexec: 'mpirun -np 8' }),
      [8, IN_CONTAINER],
    ],
    [
      'slurm, srun in a 1-task job',
      slurmBackend,
      slurmApptainer({ ntasks: 1 }, { mpiexec: 'srun' }),
      [1, ['ntasks']],
    ],
    [
      'slurm, srun in a job of default size',
      slurmBackend,
      slurmApptainer({}, { mpiexec: 'srun' }),
      [1, IN_CONTAINER],
    ],
    [
      'slurm, a count modelrun cannot read',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun -n $RANKS' }),
      [undefined, IN_CONTAINER],
    ],
    ['slurm, no mpiexec', slurmBackend, slurmApptainer({ ntasks: 4 }, {}), undefined],
    ['slurm without a container', slurmBackend, { type: 'slurm', ntasks: 4 }, undefined],
    [
      'slurm, docker in the job: mpirun inside the container, with cpu',
      slurmBackend,
      {
        type: 'slurm',
        ntasks: 4,
        container: { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 2 },
      },
      [2, IN_CONTAINER],
    ],
    [
      'slurm, docker in the job: mpirun inside the container cannot see the job',
      slurmBackend,
      { type: 'slurm', ntasks: 4, container: { type: 'docker', image: 'x', mpiexec: 'mpirun' } },
      [undefined, IN_CONTAINER],
    ],
    [
      'docker, mpirun with cpu 8',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 8 },
      [8, AT_MPIEXEC],
    ],
    [
      'docker, mpirun with cpu 1',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 1 },
      [1, AT_MPIEXEC],
    ],
    [
      'docker, mpirun without a count',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun' },
      [undefined, AT_MPIEXEC],
    ],
    ['docker without mpiexec', dockerBackend, { type: 'docker', image: 'x', cpu: 8 }, undefined],
    [
      'apptainer, srun with cpu 4',
      apptainerBackend,
      { ...APPTAINER, mpiexec: 'srun', cpu: 4 },
      [4, AT_MPIEXEC],
    ],
    [
      'apptainer, srun -n 1',
      apptainerBackend,
      { ...APPTAINER, mpiexec: 'srun -n 1', cpu: 4 },
      [1, AT_MPIEXEC],
    ],
  ] as [string, BackendDefinition, Record<string, unknown>, Expected][])(
    '%s',
    (_name, backend, config, expected) => {
      const launched = backend.launcherCopies?.(config);
      expect(launched === undefined ? undefined : [launched.copies, launched.path]).toEqual(
        expected,
      );
    },
  );

  it.each([
    [
      'slurm',
      slurmBackend,
      slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun' }),
      'ntasks: 1, threads through cpus_per_task',
    ],
    [
      'docker',
      dockerBackend,
      { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 8 },
      'threads through cpu',
    ],
    [
      'apptainer',
      apptainerBackend,
      { ...APPTAINER, mpiexec: 'srun', cpu: 4 },
      'threads through cpu',
    ],
  ] as [string, BackendDefinition, Record<string, unknown>, string][])(
    '%s says how a serial model runs instead',
    (_name, backend, config, serial) => {
      expect(backend.launcherCopies?.(config)?.serial).toBe(serial);
    },
  );

  it('is no longer a warning of the backend config alone, which cannot know the model', () => {
    const configs: [BackendDefinition, Record<string, unknown>][] = [
      [slurmBackend, slurmApptainer({ ntasks: 4 }, { mpiexec: 'srun' })],
      [dockerBackend, { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 8 }],
      [apptainerBackend, { ...APPTAINER, mpiexec: 'srun', cpu: 4, cleanenv: false }],
    ];
    for (const [backend, config] of configs)
      expect(backend.warnings?.(config) ?? []).not.toContainEqual(
        expect.objectContaining({ message: expect.stringMatching(/mpiexec/) }),
      );
    // Its other warnings stay.
    expect(
      apptainerBackend.warnings?.({ ...APPTAINER, cleanenv: false })?.map((w) => w.path),
    ).toEqual([['cleanenv']]);
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
