import { join } from 'node:path';
import { isUnderway, RUN_RECORD_PATH, type RunRecord, readRunRecord } from '../model/run-record.js';
import { viewRun } from './live.js';
import type { FoundRun } from './locate.js';

/** How often the engine is asked too, beside the record. */
const LOOK_MS = 5000;

/**
 * Tells, each time it is asked, whether a run has ended: by its record, and
 * every few seconds by its engine too, so that a run whose modelrun has
 * gone is put right on record (see viewRun) rather than waited for in vain.
 * Another run's record in its place, or none, means this one has ended
 * (`replaced`): how, only the history can tell.
 */
export function watchEnd(
  found: FoundRun,
  env: NodeJS.ProcessEnv,
): () => Promise<{ ended: boolean; record: RunRecord; replaced: boolean }> {
  const path = join(found.dir, RUN_RECORD_PATH);
  // A detached run has no modelrun to record its end: its engine is asked at once.
  let lookedAt = found.record.detached === undefined ? Date.now() : 0;
  return async () => {
    // A record gone (the run dir removed) ends the run's watching, as one replaced does.
    const read = await readRunRecord(path).catch(() => undefined);
    if (read === undefined) return { ended: true, record: found.record, replaced: true };
    let now = read;
    if (Date.now() - lookedAt >= LOOK_MS && isUnderway(now)) {
      lookedAt = Date.now();
      now = (await viewRun({ dir: found.dir, record: now }, env)).record;
    }
    const replaced = now.started_at !== found.record.started_at;
    return { ended: replaced || !isUnderway(now), record: now, replaced };
  };
}
