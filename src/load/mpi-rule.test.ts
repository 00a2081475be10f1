import { describe, expect, it } from 'vitest';
import type { LauncherCopies } from '../backends/contract.js';
import { formatPath } from '../problems.js';
import { mpiWarning, type Placer, runMpiWarning } from './mpi-rule.js';

const place: Placer = (path, message) => ({
  file: 'slurm.yml',
  line: 7,
  column: 3,
  path: formatPath(path),
  message,
});
const launcher = (copies: number | undefined): LauncherCopies => ({
  copies,
  path: ['ntasks'],
  serial: 'ntasks: 1, threads through cpus_per_task',
});

describe('the MPI rule: a backend that starts several copies of a model that is not an MPI program', () => {
  it.each([
    [true, 1, false],
    [true, 4, false],
    [true, undefined, false],
    [false, 1, false],
    [false, 4, true],
    [false, undefined, false],
    [undefined, 1, false],
    [undefined, 4, true],
    [undefined, undefined, false],
  ] as [boolean | undefined, number | undefined, boolean][])(
    'model mpi %j, copies %j: warns %j',
    (mpi, copies, warns) => {
      const warning = mpiWarning(mpi, launcher(copies), 'model.yml', place);
      expect(warning !== undefined).toBe(warns);
    },
  );

  it.each([true, false, undefined])('says nothing without mpiexec (model mpi %j)', (mpi) => {
    expect(mpiWarning(mpi, undefined, 'model.yml', place)).toBeUndefined();
  });

  it('names the field the count comes from, the model file, and both fixes', () => {
    expect(mpiWarning(false, launcher(4), 'wave/model.yml', place)).toEqual({
      file: 'slurm.yml',
      line: 7,
      column: 3,
      path: 'ntasks',
      message:
        'mpiexec starts 4 copies of the command, but wave/model.yml does not say it is an MPI program: a serial or threaded model would run 4 times over, its copies writing the same output files; set `mpi: true` in wave/model.yml if it is an MPI program; otherwise remove mpiexec (ntasks: 1, threads through cpus_per_task)',
    });
  });

  it('asks the backend of the config what its mpiexec starts', () => {
    const docker = { type: 'docker', image: 'x', mpiexec: 'mpirun', cpu: 8 };
    expect(runMpiWarning({ mpi: false }, 'model.yml', docker, place)?.message).toMatch(
      /^mpiexec starts 8 copies .*remove mpiexec \(threads through cpu\)$/,
    );
    expect(runMpiWarning({ mpi: true }, 'model.yml', docker, place)).toBeUndefined();
    expect(runMpiWarning({}, 'model.yml', { type: 'local' }, place)).toBeUndefined();
  });
});
