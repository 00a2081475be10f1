import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Redactor } from '../secrets.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface StageRecord {
  status: StageStatus;
  started_at?: string;
  ended_at?: string;
  detail?: string;
}

export interface PostprocessRecord {
  type: string;
  status: 'succeeded' | 'failed' | 'skipped';
  summary: string;
  details?: Record<string, unknown>;
  duration_s?: number;
}

/** `.modelrun/run.json`: what happened in a run, written at its start and at its end. */
export interface RunRecord {
  run_id: string;
  status: RunStatus;
  exit_code: number | null;
  signal?: string;
  reason?: string;
  started_at: string;
  ended_at: string | null;
  duration_s: number | null;
  staging_dir: string;
  /** The backend, its config (secrets masked) and what its engine called the run (job id, container id). */
  backend: { type: string; config: Record<string, unknown>; details?: Record<string, string> };
  stages: { generate: StageRecord; run: StageRecord; postprocess: StageRecord };
  postprocess: PostprocessRecord[];
  modelrun_version: string;
  host: Record<string, unknown>;
}

export const RUN_RECORD_PATH = join('.modelrun', 'run.json');

/**
 * Writes run.json by temp file and rename, so a reader never sees half a
 * record, with every known secret value masked on the way.
 */
export async function writeRunRecord(
  stagingDir: string,
  record: RunRecord,
  redactor: Redactor,
): Promise<void> {
  await mkdir(join(stagingDir, '.modelrun'), { recursive: true });
  await writeFileAtomic(join(stagingDir, RUN_RECORD_PATH), recordText(redactor.redactData(record)));
}

/** Closes a record: its final status, when it ended and how long it ran. */
export function endRecord(record: RunRecord, status: RunStatus, ended = new Date()): void {
  record.status = status;
  record.ended_at = ended.toISOString();
  record.duration_s = Math.round(ended.getTime() - Date.parse(record.started_at)) / 1000;
}

/**
 * Marks as failed, with `reason`, a run.json that still says running: for
 * the guardian, after modelrun died in the middle of the run. The record on
 * disk is already masked; one that ended is left as it is.
 */
export async function failUnfinishedRecord(path: string, reason: string): Promise<void> {
  const record = JSON.parse(await readFile(path, 'utf8')) as RunRecord;
  if (record.status !== 'running') return;
  record.reason = reason;
  endRecord(record, 'failed');
  await writeFileAtomic(path, recordText(record));
}

function recordText(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
