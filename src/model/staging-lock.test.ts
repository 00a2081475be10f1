import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { lockStagingDir } from './staging-lock.js';
import { LOCK_OWNER_PATH } from './staging-lock-files.js';

const tree = treeForEachTest({ 'run/.modelrun/': '' });

describe('a staging lock another modelrun holds', () => {
  // On the old code a --resume right after a kill -9 was told to wait for a
  // modelrun that no longer ran, or to give the run another run_id.
  it('says of a holder that has ended that its guardian gives the lock back', async () => {
    const dir = tree.path('run');
    const held = await lockStagingDir(dir, () => {});
    try {
      // The owner file as a modelrun killed a moment ago left it: its pid is gone.
      const dead = spawnSync('true').pid;
      writeFileSync(
        join(dir, LOCK_OWNER_PATH),
        JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }),
      );
      await expect(lockStagingDir(dir, () => {})).rejects.toThrow(
        new RegExp(`the modelrun that used .*run \\(pid ${dead} on .*\\) has ended`),
      );
      // One that runs is another modelrun, as before.
      writeFileSync(
        join(dir, LOCK_OWNER_PATH),
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
      );
      await expect(lockStagingDir(dir, () => {})).rejects.toThrow(/another modelrun is using/);
    } finally {
      await held.release();
    }
  });
});
