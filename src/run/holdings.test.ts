import { describe, expect, it } from 'vitest';
import { slurmBackend } from '../backends/slurm/index.js';
import type { GuardTask } from '../guardian/tasks.js';
import { Holdings, handlersFor } from './holdings.js';

const job = { kind: 'slurm-job', id: '812' } as const;
const envFile = { kind: 'secret-file', path: '/r/.modelrun/env', dev: '1', ino: '2' } as const;
const lock = { kind: 'staging-lock', stagingDir: '/r' } as const;

/** A guardian that keeps what it is handed, as the real one does until each is withdrawn. */
function fakeGuardian() {
  const given = new Set<GuardTask>();
  const guard = (task: GuardTask) => {
    given.add(task);
    return () => given.delete(task);
  };
  return { guard, given };
}

describe('what a run holds', () => {
  it('hands each task to the guardian and names what runs as a leftover, until released', () => {
    const guardian = fakeGuardian();
    const holdings = new Holdings(handlersFor(slurmBackend.undo), guardian.guard);
    const releaseJob = holdings.hold(job);
    holdings.hold(envFile);
    holdings.hold(lock);
    expect([...guardian.given]).toEqual([job, envFile, lock]);
    expect(holdings.leftovers()).toEqual(['slurm job 812 (scancel 812)']);
    expect(holdings.leftovers(['secret-file', 'staging-lock'])).toEqual([
      'the env file /r/.modelrun/env (rm /r/.modelrun/env)',
      'the lock on /r',
    ]);

    releaseJob();
    expect([...guardian.given]).toEqual([envFile, lock]);
    expect(holdings.leftovers()).toEqual([]);
  });

  it('releases a task once, however often asked: the same task taken again stays held', () => {
    const guardian = fakeGuardian();
    const holdings = new Holdings(handlersFor(slurmBackend.undo), guardian.guard);
    const first = holdings.hold(job);
    holdings.hold(job);
    first();
    first();
    expect(holdings.tasks()).toEqual([job]);
  });

  it('keeps the list without a guardian too, as a program using the library runs', () => {
    const holdings = new Holdings(handlersFor([]));
    const release = holdings.hold({ kind: 'process-group', pgid: 4321, graceMs: 1000 });
    expect(holdings.leftovers()).toEqual(['process group 4321 (kill -TERM -4321)']);
    release();
    expect(holdings.tasks()).toEqual([]);
  });
});
