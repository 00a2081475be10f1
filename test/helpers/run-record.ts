import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The run record of a staging dir, or undefined while it cannot be read. */
export function readRunRecord(stagingDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(stagingDir, '.modelrun', 'run.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Waits, for at most `ms`, until the run record no longer says "running", and returns it.
 * After modelrun is killed, its guardian writes the record last: once it has, the guardian
 * has finished with the staging dir and the test may remove it.
 */
export async function waitForEndedRecord(
  stagingDir: string,
  ms = 10_000,
): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + ms;
  let record = readRunRecord(stagingDir);
  while (record?.status === 'running' && Date.now() < deadline) {
    await sleep(50);
    record = readRunRecord(stagingDir);
  }
  return record;
}
