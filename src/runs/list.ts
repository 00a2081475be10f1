import { lstat, readdir } from 'node:fs/promises';
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
export async function findRuns(
  dirs: string[],
  /** Told of each folder whose run.json is there but holds no run record modelrun can read. */
  unreadable: (dir: string) => void = () => undefined,
): Promise<FoundRun[]> {
  const found = new Map<string, FoundRun>();
  const limit = pLimit(AT_ONCE);
  const told = new Set<string>();
  const tell = (dir: string) => {
    if (!told.has(dir)) unreadable(dir);
    told.add(dir);
  };
  await Promise.all(dirs.map((dir) => walk(dir, DEPTH, found, limit, tell)));
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
  unreadable: (dir: string) => void,
): Promise<void> {
  const record = await limit(() => readRunRecord(join(dir, RUN_RECORD_PATH)));
  if (record !== undefined) {
    found.set(dir, { dir, record });
    return;
  }
  // A run.json that is there but no record (corrupt, cut short, another shape) is said, not skipped in silence.
  if (
    await limit(() =>
      lstat(join(dir, RUN_RECORD_PATH)).then(
        () => true,
        () => false,
      ),
    )
  ) {
    unreadable(dir);
    return;
  }
  if (depth === 0) return;
  const entries = await limit(() => readdir(dir, { withFileTypes: true }).catch(() => []));
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => walk(join(dir, entry.name), depth - 1, found, limit, unreadable)),
  );
}
