import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { readOwnFile } from '../exec/link-safe.js';
import { inBookkeepingFolder, pinFolder } from './bookkeeping.js';
import { RUN_RECORD_PATH } from './run-record.js';
import { MODELRUN_DIR } from './staging-dir.js';

/** Where earlier runs' records (and logs) go when a run is staged again in the same folder. */
export const HISTORY_PATH = join(MODELRUN_DIR, 'history');

/**
 * Moves the record of an earlier run in this staging dir into
 * `.modelrun/history/<started_at>-<random>/run.json`, with that run's
 * `logs/` beside it when `withLogs`, so a new run neither overwrites them
 * nor counts them as its own outputs. The folder names sort by time and
 * never collide. Returns the folder, or undefined when there was no earlier
 * run.
 */
export async function archiveEarlierRun(
  stagingDir: string,
  withLogs: boolean,
): Promise<string | undefined> {
  const recordPath = join(stagingDir, RUN_RECORD_PATH);
  const info = await lstat(recordPath).catch(() => undefined);
  if (info === undefined) return undefined;
  // Read only from a file of its own: a run.json symlink leads to no one's record.
  const started = await readOwnFile(recordPath)
    .then((text) => (JSON.parse(text ?? '{}') as { started_at?: unknown }).started_at)
    .catch(() => undefined);
  // A record that cannot be read is still kept, dated by when it was written.
  const when =
    typeof started === 'string' && !Number.isNaN(Date.parse(started))
      ? new Date(started)
      : info.mtime;
  const name = `${when.toISOString().replaceAll(':', '-')}-${randomBytes(3).toString('hex')}`;
  const history = join(stagingDir, HISTORY_PATH);
  // .modelrun and its history are held open while the record and logs move in: a link
  // put at either (a model can leave one) would carry them out of the run.
  await inBookkeepingFolder(stagingDir, async (own) => {
    const folder = await pinFolder(join(own, basename(HISTORY_PATH)), {
      create: true,
      // Under a held path: Node's recursive mkdir goes round for ever once that folder is removed.
      parents: false,
      refuse: (_shown, what) =>
        new RunFailedError(
          `cannot keep the earlier run's record: ${history} is ${what.startsWith('a symlink') ? 'a symlink' : 'not a folder'}, and modelrun moves earlier runs' records only into a folder of its own there`,
          { hint: 'remove it, or give this run a new run_id' },
        ),
    });
    if (folder === undefined) return;
    try {
      const kept = join(folder.path, name);
      await mkdir(kept);
      await rename(join(own, basename(RUN_RECORD_PATH)), join(kept, 'run.json'));
      const logs = join(stagingDir, 'logs');
      if (withLogs && (await lstat(logs).catch(() => undefined))?.isDirectory())
        await rename(logs, join(kept, 'logs'));
    } finally {
      await folder.close();
    }
  });
  return join(history, name);
}
