import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../model/run-record.js';

/** A run record as a run writes it, with `changes` on top; for the tests of this folder. */
export function recordOf(changes: Partial<RunRecord> & { staging_dir: string }): RunRecord {
  return {
    run_id: 'r1',
    status: 'running',
    exit_code: null,
    started_at: '2026-11-30T10:00:00.000Z',
    ended_at: null,
    duration_s: null,
    backend: { type: 'local', config: { type: 'local' } },
    stages: {
      generate: { status: 'succeeded' },
      run: { status: 'running' },
      postprocess: { status: 'pending' },
    },
    postprocess: [],
    modelrun_version: '0',
    host: {},
    ...changes,
  };
}

/** Writes `record` as the run.json of its staging dir; returns the dir. */
export function writeRecord(record: RunRecord): string {
  mkdirSync(join(record.staging_dir, '.modelrun'), { recursive: true });
  writeFileSync(join(record.staging_dir, '.modelrun', 'run.json'), JSON.stringify(record));
  return record.staging_dir;
}
