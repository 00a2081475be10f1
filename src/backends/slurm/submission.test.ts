import { describe, expect, it } from 'vitest';
import { guardSubmission, type SlurmSubmissionTask } from './submission.js';

/** A guard that keeps what it holds, in order, as the guardian would. */
function fakeGuard() {
  const held = new Map<number, SlurmSubmissionTask>();
  const log: string[] = [];
  let next = 0;
  const guard = (task: SlurmSubmissionTask) => {
    const key = next++;
    held.set(key, task);
    log.push(`add ${key}${task.sbatch === undefined ? '' : ' sbatch'}`);
    return () => {
      if (held.delete(key)) log.push(`remove ${key}`);
    };
  };
  return { guard, held: () => [...held.values()], log };
}

describe('guardSubmission', () => {
  it('holds the script before sbatch starts, then with its process, never with neither', () => {
    const { guard, held, log } = fakeGuard();
    const submission = guardSubmission(guard, '/runs/a/.modelrun/slurm-job.sh');
    expect(held()).toEqual([
      {
        kind: 'slurm-submission',
        script: '/runs/a/.modelrun/slurm-job.sh',
        uid: process.getuid?.(),
      },
    ]);
    submission.watch?.started(process.pid);
    // The second guard is in place before the first goes.
    expect(log).toEqual(['add 0', 'add 1 sbatch', 'remove 0']);
    expect(held()).toHaveLength(1);
    expect(held()[0]?.sbatch?.pid).toBe(process.pid);
    submission.release();
    expect(held()).toEqual([]);
  });

  it('carries where the containers of the job are swept', () => {
    const { guard, held } = fakeGuard();
    guardSubmission(guard, '/s.sh', { engine: 'unix:///var/run/docker.sock', remove: true });
    expect(held()[0]?.containers).toEqual({ engine: 'unix:///var/run/docker.sock', remove: true });
  });

  it('keeps the guard it has when the process is gone before it could be named', () => {
    const { guard, held, log } = fakeGuard();
    const submission = guardSubmission(guard, '/s.sh');
    // No such process: nothing to wait for, so the guardian keeps looking for the job a while.
    submission.watch?.started(2 ** 22 + 1);
    expect(log).toEqual(['add 0']);
    expect(held()[0]?.sbatch).toBeUndefined();
  });

  it('without a guardian, hands nothing over', () => {
    const submission = guardSubmission(undefined, '/s.sh');
    expect(submission.watch).toBeUndefined();
    expect(() => submission.release()).not.toThrow();
  });
});
