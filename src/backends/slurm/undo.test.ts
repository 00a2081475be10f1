import { describe, expect, it } from 'vitest';
import { scriptJobs } from './undo.js';

describe('scriptJobs', () => {
  const script = '/home/u/runs/a/.modelrun/slurm-job.sh';

  it("finds the jobs whose command is the run's script, an array once", () => {
    const listing = [
      `101|${script}`,
      '102|/home/u/runs/b/.modelrun/slurm-job.sh',
      `103|${script}`,
      `103|${script}`,
      '',
    ].join('\n');
    expect(scriptJobs(listing, script)).toEqual(['101', '103']);
  });

  it('takes no path that only begins with the script, or holds it', () => {
    const listing = `104|${script}.old\n105|/x${script}\n106|${script}`;
    expect(scriptJobs(listing, script)).toEqual(['106']);
  });

  it("reads a path that holds '|' or a newline whole", () => {
    const odd = '/runs/a|b\n107|c/slurm-job.sh';
    expect(scriptJobs(`108|${odd}\n109|/other\n`, odd)).toEqual(['108']);
    expect(scriptJobs(`110|/runs/a|b\n`, odd)).toEqual([]);
  });

  it('finds nothing in an empty queue', () => {
    expect(scriptJobs('', script)).toEqual([]);
  });
});
