import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import { readOwnFile, replaceFile } from '../exec/link-safe.js';
import type { ProcessIdentity } from '../exec/process-identity.js';
import { isRecord } from '../records.js';
import { ensembleRecordFault, MEMBER_STATUSES } from './ensemble-record-check.js';
import {
  type PostprocessRecord,
  RUN_RECORD_PATH,
  type RunRecord,
  readRunRecord,
} from './run-record.js';

/**
 * `ensemble.json`, in an ensemble's folder: every member's run id, values,
 * status, exit code, duration, run folder and handle, with totals. It is
 * written by temp file and rename as the ensemble goes, so that a reader (an
 * aggregate step, `--resume`, a person) never sees half of it, and a link a
 * model put in its place is replaced, not written through.
 */

export const ENSEMBLE_RECORD = 'ensemble.json';

export { MEMBER_STATUSES };
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export interface MemberEntry {
  index: number;
  replica: number;
  run_id: string;
  /** Its values by path as the ensemble file wrote them, secret values masked. */
  parameters: Record<string, unknown>;
  status: MemberStatus;
  exit_code: number | null;
  started_at: string | null;
  ended_at: string | null;
  duration_s: number | null;
  run_dir: string;
  /** A hash of what the member runs: its merged model and backend config, the template's contents and the command; `--resume` compares it. */
  inputs: string;
  /** Why it failed, was cancelled or skipped. */
  reason?: string;
  /** What runs it, once started (a job id, a container id). */
  handle?: RunHandle;
}

export type EnsembleStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * An aggregate postprocessor's outcome; `running` while the aggregate step
 * runs, so that a modelrun killed meanwhile leaves a record that says which
 * step it was in.
 */
export type AggregateEntry =
  | PostprocessRecord
  | (Omit<PostprocessRecord, 'status'> & { status: 'running' });

export interface EnsembleRecord {
  ensemble_id: string;
  file: string;
  dir: string;
  status: EnsembleStatus;
  started_at: string;
  ended_at: string | null;
  duration_s: number | null;
  backend: { type: string };
  max_parallel: number;
  fail_fast: boolean;
  /** The command line's --set values, secret values masked. */
  overrides?: string[];
  totals: Record<MemberStatus, number> & { members: number };
  members: MemberEntry[];
  aggregate: AggregateEntry[];
  modelrun_version: string;
  /** The modelrun that runs the ensemble: how `status`, `wait` and `cancel` reach it from another shell. */
  owner?: ProcessIdentity;
  /** Run with --detach: the log its modelrun writes its lines to. */
  log?: string;
}

export function totalsOf(members: readonly MemberEntry[]): EnsembleRecord['totals'] {
  const totals = Object.fromEntries(MEMBER_STATUSES.map((status) => [status, 0])) as Record<
    MemberStatus,
    number
  >;
  for (const member of members) totals[member.status]++;
  return { members: members.length, ...totals };
}

export async function writeEnsembleRecord(dir: string, record: EnsembleRecord): Promise<void> {
  record.totals = totalsOf(record.members);
  try {
    await replaceFile(join(dir, ENSEMBLE_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // A folder put in its place, or the ensemble's folder removed: no bug of modelrun's.
    if (typeof code !== 'string') throw error;
    throw new RunFailedError(
      `cannot write ${join(record.dir, ENSEMBLE_RECORD)}: ${code === 'EISDIR' || code === 'ENOTEMPTY' ? 'a folder is in its place' : code === 'ENOENT' ? "the ensemble's folder is gone" : message}`,
      { hint: `put right what is at ${record.dir}, then run the ensemble again with --resume` },
    );
  }
}

/**
 * What ensemble.json in `dir` holds: `none` when there is no regular file
 * (a link or anything else is not read), `damaged` when the file is not a
 * whole record of modelrun's, saying why (for a person to read), or the
 * record. The one reader of the file: every other reads through it.
 */
export type EnsembleRecordRead =
  | { kind: 'none' }
  | { kind: 'damaged'; path: string; problem: string }
  | { kind: 'record'; record: EnsembleRecord };

export async function readEnsembleRecordFile(dir: string): Promise<EnsembleRecordRead> {
  const path = join(dir, ENSEMBLE_RECORD);
  const text = await readOwnFile(path).catch(() => undefined);
  if (text === undefined) return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      kind: 'damaged',
      path,
      problem:
        text.trim() === ''
          ? 'it is empty'
          : 'it is not JSON that parses: cut short (a write that did not end, a full disk) or edited',
    };
  }
  // A model can write this file: one that does not read as modelrun's whole record is none of its.
  const fault = ensembleRecordFault(value);
  if (fault !== undefined)
    return { kind: 'damaged', path, problem: `its field \`${fault.field}\` ${fault.problem}` };
  return { kind: 'record', record: value as EnsembleRecord };
}

/** The record in `dir`, or undefined when there is none, or none that reads as a whole one. */
export async function readEnsembleRecord(dir: string): Promise<EnsembleRecord | undefined> {
  const read = await readEnsembleRecordFile(dir);
  return read.kind === 'record' ? read.record : undefined;
}

/**
 * The guardian's, once modelrun died during an ensemble: a record that
 * still says running is ended as failed, its running members failed and
 * those not started cancelled, each with `reason`. A record that says the
 * ensemble ended is left as it is.
 */
export async function failUnfinishedEnsemble(
  dir: string,
  reason: string,
  status: 'failed' | 'cancelled' = 'failed',
): Promise<void> {
  const record = await readEnsembleRecord(dir);
  if (record?.status !== 'running') return;
  const now = new Date();
  record.status = status;
  record.ended_at = now.toISOString();
  record.duration_s = Math.round(now.getTime() - Date.parse(record.started_at)) / 1000;
  // Killed in the aggregate step: the postprocessor it was in did not end.
  if (Array.isArray(record.aggregate))
    record.aggregate = record.aggregate.map((entry) =>
      isRecord(entry) && entry.status === 'running'
        ? { ...entry, status: 'failed', summary: reason }
        : entry,
    );
  for (const member of record.members) {
    if (member.status !== 'running' && member.status !== 'pending') continue;
    // The record is written a second apart: the member's own run.json may
    // know more, that it started, or that it ended (the guardian ends the
    // members' run.json only after this). A model can write that file, so
    // an end is taken from it only when it is a failure: a success there is
    // never believed, and the member runs again on --resume.
    const run = await runSince(member.run_dir, record.started_at);
    if (run !== undefined && (run.status === 'failed' || run.status === 'timed_out')) {
      member.status = 'failed';
      member.exit_code = run.exit_code;
      member.started_at ??= run.started_at;
      member.ended_at = run.ended_at ?? record.ended_at;
      member.duration_s = run.duration_s;
      member.reason = run.reason ?? reason;
      continue;
    }
    // Submitted is still in the engine's queue (a Slurm array's task): not started.
    const started =
      member.status === 'running' || (run !== undefined && run.status !== 'submitted');
    member.reason = started ? reason : `not started: ${reason}`;
    member.status = started ? status : 'cancelled';
    member.ended_at = record.ended_at;
  }
  await writeEnsembleRecord(dir, record);
}

/** The run.json in `runDir`, when that run started at or after `since`: this ensemble's run of it. */
async function runSince(runDir: string, since: string): Promise<RunRecord | undefined> {
  const run = await readRunRecord(join(runDir, RUN_RECORD_PATH)).catch(() => undefined);
  return run !== undefined && Date.parse(run.started_at) >= Date.parse(since) ? run : undefined;
}
