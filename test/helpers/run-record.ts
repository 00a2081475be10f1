import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_RECORD_PATH } from '../../src/model/run-record.js';
import { LOCK_PATH } from '../../src/model/staging-lock-files.js';

/** The run record of a staging dir, or undefined while it cannot be read. */
export function readRunRecord(stagingDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(stagingDir, RUN_RECORD_PATH), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Waits, for at most `ms`, for the guardian of a killed modelrun to finish with its staging
 * dir: the run record no longer says "running", and the staging lock is released (the
 * guardian does that last). Returns the record.
 */
export async function waitForGuardian(
  stagingDir: string,
  ms = 10_000,
): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + ms;
  const finished = () =>
    readRunRecord(stagingDir)?.status !== 'running' && !existsSync(join(stagingDir, LOCK_PATH));
  while (!finished() && Date.now() < deadline) await sleep(50);
  return readRunRecord(stagingDir);
}

/**
 * Waits, for at most `ms`, for a run's record to name its handle. A model's first output can
 * come before modelrun has written the handle it got from the engine. Returns the record.
 */
export async function waitForHandle(
  stagingDir: string,
  ms = 10_000,
): Promise<Record<string, unknown> & { handle?: Record<string, unknown> }> {
  const deadline = Date.now() + ms;
  while (readRunRecord(stagingDir)?.handle === undefined && Date.now() < deadline) await sleep(25);
  return readRunRecord(stagingDir) ?? {};
}

/**
 * Writes a run.json that modelrun did not write (by hand, or by a model):
 * a record still running, with `fields` on top, such as a handle that names
 * something that is not the run's.
 */
export function writeForged(stagingDir: string, fields: Record<string, unknown>): void {
  mkdirSync(join(stagingDir, '.modelrun'), { recursive: true });
  writeFileSync(
    join(stagingDir, RUN_RECORD_PATH),
    JSON.stringify({
      status: 'running',
      exit_code: null,
      started_at: new Date().toISOString(),
      stages: { run: { status: 'running' } },
      ...fields,
    }),
  );
}
