import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { RUN_RECORD_PATH, readRunRecord } from '../model/run-record.js';
import type { FoundRun } from './locate.js';

/** How deep below a given folder runs are looked for: the folder, its runs, an ensemble's runs. */
const DEPTH = 2;

/** Files open at once: far below any limit on open files (often 1,024), which would hide runs. */
const AT_ONCE = 32;

/**
 * Every run in `dirs` or below them, two levels down: a folder with a run
 * record is a run, and what is inside it (the model's outputs) is not
 * searched. Links are not followed, and nothing but run.json files is read.
 * Newest first; a folder reached twice is listed once.
 */
export async function findRuns(dirs: string[]): Promise<FoundRun[]> {
  const found = new Map<string, FoundRun>();
  const limit = pLimit(AT_ONCE);
  await Promise.all(dirs.map((dir) => walk(dir, DEPTH, found, limit)));
  return [...found.values()].sort(
    (a, b) =>
      (Date.parse(b.record.started_at) || 0) - (Date.parse(a.record.started_at) || 0) ||
      a.dir.localeCompare(b.dir),
  );
}

type Limit = LimitFunction;

async function walk(
  dir: string,
  depth: number,
  found: Map<string, FoundRun>,
  limit: Limit,
): Promise<void> {
  const record = await limit(() => readRunRecord(join(dir, RUN_RECORD_PATH)));
  if (record !== undefined) {
    found.set(dir, { dir, record });
    return;
  }
  if (depth === 0) return;
  const entries = await limit(() => readdir(dir, { withFileTypes: true }).catch(() => []));
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => walk(join(dir, entry.name), depth - 1, found, limit)),
  );
}
