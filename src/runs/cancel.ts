import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBackend } from '../backends/registry.js';
import { RunFailedError } from '../errors.js';
import { presence } from '../exec/process-identity.js';
import {
  endRecordFromOutside,
  endUnfinishedRecord,
  isUnderway,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
} from '../model/run-record.js';
import type { FoundRun } from './locate.js';

/** How long the modelrun that runs a run has to stop it and say so on record. */
const OWNER_STOP_MS = 90_000;

export interface CancelResult {
  /** `ended`: it had ended before; `cancelled`: stopped now. */
  outcome: 'ended' | 'cancelled';
  record: RunRecord;
  /** How it was stopped, for a person. */
  how: string;
}

export interface CancelDeps {
  env: NodeJS.ProcessEnv;
  /** Progress lines ("asked modelrun (pid 12) to stop the run"). */
  status(line: string): void;
  /** How long to wait for the owner; tests shorten it. */
  ownerStopMs?: number;
}

/**
 * Stops a run from any process. A run that modelrun still runs on this
 * machine is stopped by that modelrun, sent SIGTERM as by a Ctrl-C: it stops
 * the model with the backend's grace, cleans up and records `cancelled`
 * itself. Otherwise (it is gone, or it runs elsewhere) the run's handle is
 * stopped directly (scancel, a container stopped then removed, the process
 * group's SIGTERM then SIGKILL) and the record says `cancelled`.
 */
export async function cancelRun(found: FoundRun, deps: CancelDeps): Promise<CancelResult> {
  const path = join(found.dir, RUN_RECORD_PATH);
  let { record } = found;
  if (!isUnderway(record)) return { outcome: 'ended', record, how: 'it had ended' };
  const owner = record.owner;
  if (owner?.by === 'cli' && presence(owner) === 'alive' && signalled(owner.pid)) {
    deps.status(`asked modelrun (pid ${owner.pid}), which runs it, to stop it and clean up`);
    const ended = await untilEnded(path, record, deps.ownerStopMs ?? OWNER_STOP_MS);
    if (ended !== undefined)
      return {
        outcome: ended.status === 'cancelled' ? 'cancelled' : 'ended',
        record: ended,
        how: `modelrun (pid ${owner.pid}) stopped it`,
      };
    deps.status(
      `modelrun (pid ${owner.pid}) did not say the run ended within ${Math.round((deps.ownerStopMs ?? OWNER_STOP_MS) / 1000)} s; stopping it through its handle`,
    );
    record = (await readRunRecord(path)) ?? record;
  }
  const handle = record.handle;
  let how = 'nothing of it had started';
  if (handle !== undefined) {
    const backend = findBackend(record.backend.type);
    if (backend === undefined)
      throw new RunFailedError(`no backend type "${record.backend.type}" in this modelrun`, {
        hint: 'cancel it with the modelrun that started it',
      });
    await backend.handle.cancel(handle, deps.env).catch((error: Error) => {
      throw new RunFailedError(`could not stop the run: ${error.message}`, {
        hint: 'see `modelrun status` for where it runs, and stop it there',
        cause: error,
      });
    });
    how = `stopped through its handle (${handle.kind})`;
  }
  const written = await endUnfinishedRecord(path, record, (onDisk) => {
    endRecordFromOutside(onDisk, 'cancelled', 'cancelled with `modelrun cancel`');
  });
  const now = written ?? (await readRunRecord(path)) ?? record;
  return { outcome: 'cancelled', record: now, how };
}

/** SIGTERM to the modelrun that runs the run; false when it has just gone. */
function signalled(pid: number): boolean {
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}

/** The record once it says the run has ended, or undefined after `ms`. */
async function untilEnded(
  path: string,
  was: RunRecord,
  ms: number,
): Promise<RunRecord | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const record = await readRunRecord(path);
    // Another run's record now: this one ended before it was replaced.
    if (record === undefined || record.started_at !== was.started_at) return was;
    if (!isUnderway(record)) return record;
    await sleep(200);
  }
  return undefined;
}
