import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { RunJob } from './contract.js';
import { processCountArgs, resolveCommand, wrapMpi } from './model-command.js';

const job = (modelCommand: string | undefined): RunJob => ({
  runId: 'run-1',
  stagingDir: '/tmp/staging',
  modelCommand,
});

describe('resolveCommand', () => {
  it.each([
    { own: './ww3_shel', model: 'python wave.py', command: './ww3_shel' },
    { own: './ww3_shel', model: undefined, command: './ww3_shel' },
    { own: undefined, model: 'python wave.py', command: 'python wave.py' },
  ])('own $own, model $model → $command', ({ own, model, command }) => {
    expect(resolveCommand(own, job(model))).toBe(command);
  });

  it('fails as a config error, with a hint naming both places, when there is no command', () => {
    let thrown: unknown;
    try {
      resolveCommand(undefined, job(undefined));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe('there is no command to run');
    expect((thrown as ConfigError).hint).toMatch(/`command:` in the model file/);
    expect((thrown as ConfigError).hint).toMatch(/executable/);
  });
});

describe('processCountArgs', () => {
  it.each([
    // No count in the launcher: add one.
    ['mpirun', 4, ['-n', '4']],
    ['mpiexec', 16, ['-n', '16']],
    ['/opt/openmpi/bin/mpirun --oversubscribe', 2, ['-n', '2']],
    // Options that look like a count but are not one.
    ['mpirun -npernode 2', 8, ['-n', '8']],
    ['mpirun --ntasks-per-node=2', 8, ['-n', '8']],
    ['mpirun -N 2', 8, ['-n', '8']],
    // The launcher already gives a count.
    ['mpirun -n 8', 4, []],
    ['mpirun -n8', 4, []],
    ['mpirun -np 8', 4, []],
    ['mpirun -np8', 4, []],
    ['mpirun --np=8', 4, []],
    ['mpirun --np 8', 4, []],
    // srun reads -c as CPUs per task, so it is not a process count.
    ['srun -c 8', 4, ['-n', '4']],
    ['srun --ntasks=8', 4, []],
    ['srun --ntasks 8', 4, []],
    ['mpirun --bind-to core -n 8', 4, []],
    // No cpu count to give.
    ['mpirun', undefined, []],
  ] as [string, number | undefined, string[]][])('%j with cpu %j → %j', (mpiexec, cpu, args) => {
    expect(processCountArgs(mpiexec, cpu)).toEqual(args);
  });
});

describe('wrapMpi', () => {
  it.each([
    ['./model', undefined, 4, './model'],
    ['./model', undefined, undefined, './model'],
    ['./model', 'mpirun', 4, 'mpirun -n 4 ./model'],
    ['./model --steps 10', 'mpiexec', 2, 'mpiexec -n 2 ./model --steps 10'],
    ['./model', 'mpirun -np 8', 4, 'mpirun -np 8 ./model'],
    ['./model', 'srun --ntasks=8', 4, 'srun --ntasks=8 ./model'],
    ['./model', 'mpirun', undefined, 'mpirun ./model'],
  ] as [string, string | undefined, number | undefined, string][])(
    '%j in %j with cpu %j → %j',
    (command, mpiexec, cpu, wrapped) => {
      expect(wrapMpi(command, mpiexec, cpu)).toBe(wrapped);
    },
  );
});
