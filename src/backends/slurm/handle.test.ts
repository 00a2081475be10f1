import { describe, expect, it } from 'vitest';
import { slurmJobHandle } from './handle.js';

describe("a Slurm job's handle as run.json holds it", () => {
  it('keeps that it names the postprocess job, and only as true', () => {
    expect(slurmJobHandle.read({ kind: 'slurm-job', id: '812', postprocess: true })).toEqual({
      kind: 'slurm-job',
      id: '812',
      postprocess: true,
    });
    for (const postprocess of ['yes', 1, false, null])
      expect(slurmJobHandle.read({ kind: 'slurm-job', id: '812', postprocess })).toEqual({
        kind: 'slurm-job',
        id: '812',
      });
  });

  it("reads an ensemble member's array task", () => {
    expect(slurmJobHandle.read({ kind: 'slurm-job', id: '4880_12' })).toEqual({
      kind: 'slurm-job',
      id: '4880_12',
    });
  });

  it('reads no job id that sbatch could not have given', () => {
    for (const id of ['', '12a', '-1', '1'.repeat(13), 812, '4880_', '_3', '4880_1_2', '48_a'])
      expect(slurmJobHandle.read({ kind: 'slurm-job', id })).toBeUndefined();
  });
});
