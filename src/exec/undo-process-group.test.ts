import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, waitUntilGone } from '../../test/helpers/processes.js';
import { identify } from './process-identity.js';
import { stopAbandonedGroup } from './undo-process-group.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** A `sleep` leading a process group of its own, as any job a shell starts does. */
function groupLeader(): number {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) throw new Error('sleep did not start');
  started.push(child.pid);
  return child.pid;
}

describe('stopAbandonedGroup (the guardian stopping a process group)', () => {
  it('kills a group with no mark while its leader is the process it was handed', async () => {
    const pgid = groupLeader();
    const leader = identify(pgid);
    if (leader === undefined) throw new Error('no /proc');
    await stopAbandonedGroup({ kind: 'process-group', pgid, graceMs: 0, leader });
    expect(await waitUntilGone(pgid)).toBe(true);
  });

  // On the old code the guardian killed whatever group had come to bear the
  // number of a launcher helper that had died (its pid reused).
  it('leaves alone a group with no mark whose leader is another process than the one handed', async () => {
    const pgid = groupLeader();
    const leader = identify(pgid);
    if (leader === undefined) throw new Error('no /proc');
    // The same pid, started at another time: the helper that had it is gone.
    await stopAbandonedGroup({
      kind: 'process-group',
      pgid,
      graceMs: 0,
      leader: { ...leader, start: (leader.start ?? 1) - 1 },
    });
    expect(isRunning(pgid)).toBe(true);
  });
});
