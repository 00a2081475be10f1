import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RunFailedError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import { readOwnFile, replaceFile } from '../exec/link-safe.js';
import type { ProcessIdentity } from '../exec/process-identity.js';
import { isRecord } from '../records.js';
import { maskSecretKeys, Redactor } from '../secrets.js';
import { inBookkeepingFolder, inFolder } from './bookkeeping.js';

/**
 * `running` from the start of a run, which includes staging and pulling;
 * `submitted` while its model waits in a queue (a Slurm job PENDING).
 */
export type RunStatus =
  | 'running'
  | 'submitted'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled';

/** Whether the record says the run is still going: neither ended, nor of an unknown status. */
export function isUnderway(record: Pick<RunRecord, 'status'>): boolean {
  return record.status === 'running' || record.status === 'submitted';
}
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
  /** The --set and --set-string values applied over the files, as given (secret values masked). */
  overrides?: string[];
  /** The site config whose defaults applied under the backend config. */
  site_config?: string;
  /** A member of an ensemble: the ensemble's folder, and which member this is with its values (secret values masked). */
  member?: MemberRecord;
  /** The backend, its config (secrets masked) and what its engine called the run (job id, container id). */
  backend: { type: string; config: Record<string, unknown>; details?: Record<string, string> };
  stages: { generate: StageRecord; run: StageRecord; postprocess: StageRecord };
  postprocess: PostprocessRecord[];
  modelrun_version: string;
  host: Record<string, unknown>;
  /** What runs the model, once started: how `status` and `cancel` reach it from another process. */
  handle?: RunHandle;
  /** The modelrun process that runs it and writes this record until it ends. */
  owner?: RunOwner;
  /** Submitted with --detach to go on alone: no modelrun follows it, and whoever sees its end records it. */
  detached?: DetachedRecord;
}

export interface MemberRecord {
  ensemble_dir: string;
  index: number;
  replica: number;
  parameters: Record<string, unknown>;
}

/**
 * A run that goes on with no modelrun behind it (a Slurm job). What
 * finishing it needs (the files to postprocess with) is kept out of the
 * run dir, where the model cannot change it (src/runs/detached-entry.ts).
 */
export interface DetachedRecord {
  /** Where the engine writes the model's output, which `logs` and `wait` read. */
  logs: { stdout: string; stderr: string };
  /**
   * The job that postprocesses the run once it has succeeded (Slurm's
   * `postprocess_on: node`), and where its output goes. A `wait` elsewhere
   * leaves the postprocessing to it while it waits in the queue or runs.
   */
  postprocess?: { handle: RunHandle; log: string };
}

/** The process that runs a run: the CLI, or a program that uses the library. */
export type RunOwner = ProcessIdentity & { by: 'cli' | 'library' };

export const RUN_RECORD_PATH = join('.modelrun', 'run.json');

/**
 * Writes run.json by temp file and rename, so a reader never sees half a
 * record, with secrets masked on the way (see maskRecord). The rename
 * replaces whatever is at run.json: a symlink a model put there is replaced
 * by the record, never written through. On a full disk, where the temp file
 * cannot be written, the record is written over the one already there
 * instead, in the blocks it already holds: a run must not be left on record
 * as running.
 */
export async function writeRunRecord(
  stagingDir: string,
  record: RunRecord,
  redactor: Redactor,
  /** Whether the staging dir itself is made when it is missing; else that is ENOENT. */
  { parents = true }: { parents?: boolean } = {},
): Promise<void> {
  const text = recordText(maskRecord(record, redactor));
  await inBookkeepingFolder(
    stagingDir,
    async (folder) => {
      const path = join(folder, 'run.json');
      try {
        await replaceFile(path, text);
      } catch (error) {
        const { code } = error as NodeJS.ErrnoException;
        if ((code !== 'ENOSPC' && code !== 'EDQUOT') || !(await overwriteInPlace(path, text)))
          throw error;
      }
    },
    { parents },
  );
}

/**
 * Writes `text` over an existing file without truncating it first; false
 * when there is no such file of its own (none, a link, a hard link, not a
 * regular file).
 */
async function overwriteInPlace(path: string, text: string): Promise<boolean> {
  const flags = constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const file = await open(path, flags).catch(() => undefined);
  if (file === undefined) return false;
  try {
    const stats = await file.stat();
    if (!stats.isFile() || stats.nlink > 1) return false;
    const bytes = Buffer.from(text);
    await file.write(bytes, 0, bytes.length, 0);
    await file.truncate(bytes.length);
    return true;
  } finally {
    await file.close();
  }
}

/**
 * A copy of a record with its secrets masked: the values under secret-named
 * keys of the backend config and postprocess details, and known secret
 * values in the free text (reason, the run stage's detail, config
 * strings). Postprocess summaries come masked from their postprocessors. What modelrun writes itself (status, type, run id,
 * times, exit code, staging dir, host, version) is never touched: a secret
 * that reads `running` must not stop the guardian from marking the run failed.
 */
export function maskRecord(record: RunRecord, redactor: Redactor): RunRecord {
  const run = record.stages.run;
  const config = redactor.redactData(maskSecretKeys(record.backend.config));
  return {
    ...record,
    ...(record.reason === undefined ? {} : { reason: redactor.redact(record.reason) }),
    // The type is modelrun's own discriminator, whatever a secret happens to read.
    backend: { ...record.backend, config: { ...config, type: record.backend.config.type } },
    // Only the run stage's detail can carry an engine's words; the others are modelrun's counts.
    stages: {
      ...record.stages,
      run: run.detail === undefined ? run : { ...run, detail: redactor.redact(run.detail) },
    },
    postprocess: record.postprocess.map(maskPostprocessRecord),
  };
}

/**
 * A postprocessor's result with the values under secret-named keys of its
 * details masked. Its summary is left as it is: the postprocessor masked the
 * free text in it (context.redact), and the rest is its own words.
 */
export function maskPostprocessRecord(post: PostprocessRecord): PostprocessRecord {
  return post.details === undefined ? post : { ...post, details: maskSecretKeys(post.details) };
}

/**
 * Ends a record that its own run could not end (modelrun gone, a cancel
 * from another process): the status and why, with every stage still under
 * way closed the same way and those that never began skipped.
 */
export function endRecordFromOutside(record: RunRecord, status: RunStatus, reason: string): void {
  record.reason = reason;
  const now = new Date().toISOString();
  // A record on disk may be any JSON that passed for one: only what is there is closed.
  const stages: unknown[] = isRecord(record.stages) ? Object.values(record.stages) : [];
  for (const stage of stages) {
    if (!isStage(stage)) continue;
    if (stage.status === 'pending') stage.status = 'skipped';
    else if (stage.status === 'running') {
      stage.status = status === 'cancelled' ? 'cancelled' : 'failed';
      stage.ended_at = now;
      stage.detail = reason;
    }
  }
  endRecord(record, status, new Date(now));
}

/** Whether a run's record leaves postprocessing to `wait`: a detached run that succeeded, not yet postprocessed. */
export function awaitsPostprocessing(record: RunRecord): boolean {
  return (
    record.detached !== undefined &&
    record.status === 'succeeded' &&
    record.stages.postprocess.status === 'pending'
  );
}

/** Why a run whose postprocessing `modelrun cancel` stopped, or kept from starting, is cancelled. */
export const POSTPROCESSING_CANCELLED =
  'postprocessing cancelled with `modelrun cancel`; the model had succeeded';

/**
 * Cancels the postprocessing still to do of a detached run that succeeded
 * (`modelrun cancel` once its postprocess job was stopped): the run is
 * cancelled with `reason`, its postprocess stage too, and `wait` no longer
 * does it. A postprocessing recorded failed since `stopping` counts as
 * still to do: the stopped job's modelrun may see its postprocessors killed
 * before it sees its own signal, and say so as it goes. With `runStopped`
 * (the run's own job still ran, whatever the record said) the run stage is
 * cancelled too, with no exit code. Undefined, with nothing written, when
 * the record on disk is no longer that run's, or its postprocessing was
 * done otherwise.
 */
export async function cancelPendingPostprocessing(
  stagingDir: string,
  same: Pick<RunRecord, 'started_at'>,
  { reason, stopping, runStopped }: { reason: string; stopping: Date; runStopped?: boolean },
): Promise<RunRecord | undefined> {
  const record = await readRunRecord(join(stagingDir, RUN_RECORD_PATH));
  if (record === undefined || record.started_at !== same.started_at) return undefined;
  const stage = record.stages.postprocess;
  const failedAsStopped =
    record.detached !== undefined &&
    record.stages.run?.status === 'succeeded' &&
    stage.status === 'failed' &&
    Date.parse(stage.ended_at ?? '') >= stopping.getTime();
  if (!awaitsPostprocessing(record) && !failedAsStopped) return undefined;
  const now = new Date();
  record.stages.postprocess = {
    ...record.stages.postprocess,
    status: 'cancelled',
    ended_at: now.toISOString(),
    detail: reason,
  };
  if (runStopped === true) {
    record.stages.run = {
      ...record.stages.run,
      status: 'cancelled',
      ended_at: now.toISOString(),
      detail: reason,
    };
    record.exit_code = null;
  }
  record.reason = reason;
  endRecord(record, 'cancelled', now);
  // Written as every record is, secret keys masked; the caller gets what is on disk.
  const masked = maskRecord(record, new Redactor());
  await writeRunRecord(stagingDir, masked, new Redactor());
  return masked;
}

/**
 * Ends the record of a detached run (no modelrun follows it) once its
 * engine says how it ended: the run stage closed with the engine's words
 * and the run's times its own, not those of whoever looks. Postprocessing
 * of a run that succeeded stays pending, for `modelrun wait`; that of one
 * that did not is skipped.
 */
export function endDetachedRecord(
  record: RunRecord,
  ended: { status: RunStatus; detail: string; exitCode?: number; signal?: string; endedAt: Date },
): void {
  const { status, detail } = ended;
  // Slurm's EndTime counts whole seconds: a job that ended within the second the
  // run began would end before it started.
  // The run stage may have been seen running later in that second than the run began.
  const started = Math.max(
    ...[record.started_at, record.stages.run?.started_at]
      .map((at) => Date.parse(at ?? ''))
      .filter((at) => !Number.isNaN(at)),
  );
  const endedAt = ended.endedAt.getTime() >= started ? ended.endedAt : new Date(started);
  record.exit_code = ended.exitCode ?? null;
  if (ended.signal !== undefined) record.signal = ended.signal;
  if (status !== 'succeeded') record.reason = detail;
  const stages: unknown[] = isRecord(record.stages) ? Object.values(record.stages) : [];
  for (const stage of stages)
    if (isStage(stage) && stage.status === 'pending' && status !== 'succeeded')
      stage.status = 'skipped';
  record.stages.run = {
    ...record.stages.run,
    status: status === 'succeeded' || status === 'cancelled' ? status : 'failed',
    ended_at: endedAt.toISOString(),
    detail,
  };
  endRecord(record, status, endedAt);
}

function isStage(value: unknown): value is StageRecord {
  return isRecord(value) && typeof value.status === 'string';
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
 * disk is already masked; one that ended is left as it is, and so is
 * anything that is not a run record of its own (a symlink the model left):
 * the guardian writes through no link.
 */
export async function failUnfinishedRecord(
  path: string,
  reason: string,
  status: 'failed' | 'cancelled' = 'failed',
): Promise<void> {
  // The guardian's: a record it cannot reach (a .modelrun the model made a link) it leaves as it is.
  await endUnfinishedRecord(path, undefined, (record) =>
    endRecordFromOutside(record, status, reason),
  ).catch((error: unknown) => {
    if (!(error instanceof RunFailedError)) throw error;
  });
}

/**
 * Changes a record that still says the run is underway, as read from disk
 * just now: `end` sets its status and reason (or, for a detached run, only
 * its status, `running` once its job runs). With `same`, only the record
 * of that run (same start, same owner) is changed, never that of a run
 * started since. Gives the record written, or undefined when none was.
 */
export async function endUnfinishedRecord(
  path: string,
  same: Pick<RunRecord, 'started_at' | 'owner'> | undefined,
  end: (record: RunRecord) => void,
): Promise<RunRecord | undefined> {
  // A .modelrun that became a link leads to another folder, maybe another run's: said, never followed.
  return inFolder(
    dirname(path),
    async (folder) => {
      const own = join(folder, basename(path));
      // Gone (a model removed it): nothing to end.
      const text = await readOwnFile(own).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (text === undefined) return undefined;
      // Any JSON that passed for a record may be there: only one that says it is underway is changed.
      const record = JSON.parse(text) as RunRecord;
      if (!isRecord(record) || !isUnderway(record)) return undefined;
      if (
        same !== undefined &&
        (record.started_at !== same.started_at || record.owner?.pid !== same.owner?.pid)
      )
        return undefined;
      end(record);
      await replaceFile(own, recordText(record));
      return record;
    },
    { create: false },
  );
}

/**
 * Reads a run.json, or gives undefined when it cannot be read or does not
 * hold a run record (valid JSON of another shape, such as `{}` or `null`):
 * modelrun adds to a record only when it can tell it is one. A symlink or
 * anything but a regular file is no record: modelrun writes run.json as a
 * file of its own, so a link is the model's, and what it points to is not
 * read.
 */
export async function readRunRecord(path: string): Promise<RunRecord | undefined> {
  const value: unknown = await readOwnFile(path)
    .then((text) => (text === undefined ? undefined : JSON.parse(text)))
    .catch(() => undefined);
  return isRunRecord(value) ? value : undefined;
}

function isRunRecord(value: unknown): value is RunRecord {
  const optional = (field: unknown, check: (v: unknown) => boolean) =>
    field === undefined || check(field);
  const text = (v: unknown) => typeof v === 'string';
  return (
    isRecord(value) &&
    typeof value.run_id === 'string' &&
    typeof value.status === 'string' &&
    typeof value.started_at === 'string' &&
    isRecord(value.backend) &&
    typeof value.backend.type === 'string' &&
    isRecord(value.backend.config) &&
    isRecord(value.stages) &&
    Object.values(value.stages).every(isStage) &&
    isRecord(value.stages.run) &&
    (value.postprocess === undefined || Array.isArray(value.postprocess)) &&
    optional(value.exit_code, (v) => v === null || Number.isInteger(v)) &&
    optional(value.duration_s, (v) => v === null || typeof v === 'number') &&
    optional(value.ended_at, (v) => v === null || text(v)) &&
    optional(value.reason, text) &&
    optional(value.signal, text) &&
    optional(value.handle, (v) => isRecord(v) && typeof v.kind === 'string') &&
    optional(value.owner, (v) => isRecord(v) && Number.isSafeInteger(v.pid) && text(v.host)) &&
    optional(value.detached, isDetachedRecord)
  );
}

function isDetachedRecord(value: unknown): boolean {
  const text = (v: unknown) => typeof v === 'string';
  return (
    isRecord(value) &&
    isRecord(value.logs) &&
    text(value.logs.stdout) &&
    text(value.logs.stderr) &&
    (value.postprocess === undefined ||
      (isRecord(value.postprocess) &&
        isRecord(value.postprocess.handle) &&
        text(value.postprocess.log)))
  );
}

function recordText(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
