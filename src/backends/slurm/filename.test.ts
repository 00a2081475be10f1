import { describe, expect, it } from 'vitest';
import { expandFilename } from './filename.js';

const values = { jobId: '276', jobName: 'my-run', user: 'root', batchHost: 'vm' };

describe('expandFilename', () => {
  // Each expected name is the file Slurm 22.05 wrote for the same pattern (job 276, job name my-run, node vm).
  it.each([
    ['slurm-%j.out', 'slurm-276.out'],
    [
      'o_%A_%a_%J_%N_%n_%s_%t_%u_%x_%j.out',
      'o_276_4294967294_276_vm_0_batch_0_root_my-run_276.out',
    ],
    [
      'p_%3j_%10j_%5a_%2t_%3N_%4n_%3s_%5u_%4x_%2A_%3J_%%_%q.out',
      'p_276_0000000276_4294967294_00_vm_0000_batch_root_my-run_276_276_%_%q.out',
    ],
    ['x\\_%j_%3j_%5a_%2t_%3N.out', 'x_%j_%3j_%5a_%2t_%3N.out'],
    ['%12j.out', '0000000276.out'],
    ['100%%_%%N.out', '100%_%N.out'],
  ])('expands %s as Slurm does', (pattern, expected) => {
    expect(expandFilename(pattern, values)).toBe(expected);
  });

  it('cannot name the file before the job has a node, when the pattern names it', () => {
    const pending = { jobId: '276', jobName: 'my-run', user: 'root' };
    expect(expandFilename('out-%N-%j.log', pending)).toBeUndefined();
    expect(expandFilename('out-%3N.log', pending)).toBeUndefined();
    expect(expandFilename('out-%%N-%j.log', pending)).toBe('out-%N-276.log');
  });
});
