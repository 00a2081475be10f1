import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { findBackend } from '../backends/registry.js';
import type { RunHandle } from '../exec/guard.js';
import { readOwnFile, replaceFile } from '../exec/link-safe.js';
import { isUnderway, type RunRecord } from '../model/run-record.js';
import { VERSION } from '../package-info.js';
import { isRecord } from '../records.js';
import { stateFolder, stateFolderPath } from './state-folder.js';

/** The files a detached run was made from, by absolute path: `wait` loads them again to postprocess. */
export interface DetachedFiles {
  model: string;
  backend?: string;
  postprocessors: string[];
  /**
   * The --set and --set-string values the run was loaded with, as
   * [flag, PATH=VALUE]; those whose key names a secret are left out, as
   * nothing modelrun writes down holds a secret.
   */
  overrides?: [string, string][];
  /** False when the run was loaded with --no-site-config. */
  site_config?: boolean;
}

/**
 * What finishing a detached run needs, kept where its model cannot write:
 * in the user's state folder, not in the run dir. run.json is a file the
 * model can change (a container mounts the run dir), so `wait` takes the
 * files whose postprocessors it runs from here, never from the record.
 */
export interface DetachedEntry {
  run_dir: string;
  run_id: string;
  started_at: string;
  /** The backend type whose handle it is. */
  backend: string;
  handle: RunHandle;
  files: DetachedFiles;
  /** The job that postprocesses the run on the engine's side (Slurm's `postprocess_on: node`). */
  postprocess_job?: RunHandle;
  /** Where the engine writes the model's output: what `logs` and `wait` read, never run.json's word. */
  logs?: { stdout: string; stderr: string };
}

/** The state folder that holds the entries, one per run dir. */
const FOLDER = 'detached-runs';

/** The entry's file: named by the run dir's real path, so that any path to the dir finds it. */
async function entryPath(
  env: NodeJS.ProcessEnv,
  runDir: string,
  { create }: { create: boolean },
): Promise<string> {
  const real = await realpath(runDir);
  const name = createHash('sha256').update(real).digest('hex').slice(0, 32);
  // Made only to write an entry: looking for one leaves nothing behind in the user's home.
  const folder = create
    ? stateFolder(env, FOLDER, 'a detached run keeps what finishing it needs')
    : stateFolderPath(env, FOLDER);
  return join(folder, `${name}.json`);
}

/** Keeps the entry of a run just detached, replacing that of an earlier run of the same dir. */
export async function writeDetachedEntry(
  env: NodeJS.ProcessEnv,
  entry: Omit<DetachedEntry, 'run_dir'> & { run_dir: string },
): Promise<void> {
  const run_dir = await realpath(entry.run_dir);
  await replaceFile(
    await entryPath(env, run_dir, { create: true }),
    `${JSON.stringify({ ...entry, run_dir }, null, 2)}\n`,
    0o600,
  );
}

/**
 * The entry of the run `record` says is in `runDir`: undefined when there
 * is none on this host (its state folder is not the one that submitted it),
 * or when it is another run's (an earlier or later run of the dir, a record
 * a model rewrote: its start and its handle must be the entry's).
 */
export async function readDetachedEntry(
  env: NodeJS.ProcessEnv,
  runDir: string,
  record: Pick<RunRecord, 'started_at' | 'handle'>,
): Promise<DetachedEntry | undefined> {
  const entry = await entryOf(env, runDir);
  const sameHandle = JSON.stringify(entry?.handle) === JSON.stringify(record.handle);
  return entry?.started_at === record.started_at && sameHandle ? entry : undefined;
}

/**
 * The record a command on the run (`status`, `wait`, `logs`, `cancel`)
 * goes by, and whether it is the one kept when the run was submitted:
 * run.json is within the model's reach, the entry is not. Where the entry's
 * run is the record's and the record says it goes on, the entry's handle is
 * taken (a model may have pointed it at another job). Where the record is
 * gone, says the run ended, or is of another start, the entry's job is
 * asked of its engine, and the entry's run stands while that job waits or
 * runs. Undefined when there is neither record nor entry.
 */
export async function trustedRecord(
  env: NodeJS.ProcessEnv,
  runDir: string,
  record: RunRecord | undefined,
): Promise<{ record: RunRecord; kept: boolean } | undefined> {
  const kept = await keptRecord(env, runDir).catch(() => undefined);
  if (kept === undefined) return record === undefined ? undefined : { record, kept: false };
  const sameRun =
    record !== undefined && record.run_id === kept.run_id && record.started_at === kept.started_at;
  if (sameRun && isUnderway(record))
    return { record: { ...record, handle: kept.handle }, kept: false };
  const going = await keptRunGoingOn(env, runDir, kept);
  if (going !== undefined)
    return {
      record: {
        ...kept,
        reason:
          record === undefined
            ? 'its run.json was gone; made again from what modelrun kept when it was submitted'
            : `its run.json says ${record.status} (run ${record.run_id}, started ${record.started_at}), but the job modelrun submitted for it still ${going.state === 'waiting' ? 'waits' : 'runs'}`,
      },
      kept: true,
    };
  if (sameRun) return { record: { ...record, handle: kept.handle }, kept: false };
  return record === undefined ? { record: kept, kept: true } : { record, kept: false };
}

/**
 * The dir's last detached run as this host kept it (`kept`, read when not
 * given), with what its engine says, while that says it waits or runs;
 * undefined otherwise, or when the engine cannot tell, or the handle is
 * shown to be another dir's.
 */
export async function keptRunGoingOn(
  env: NodeJS.ProcessEnv,
  runDir: string,
  given?: RunRecord,
): Promise<{ record: RunRecord; state: 'waiting' | 'running'; detail: string } | undefined> {
  const kept = given ?? (await keptRecord(env, runDir).catch(() => undefined));
  const backend = kept === undefined ? undefined : findBackend(kept.backend.type);
  if (kept?.handle === undefined || backend === undefined) return undefined;
  const live = await backend.handle
    .inspect(kept.handle, env, { runId: kept.run_id, stagingDir: runDir })
    .catch(() => undefined);
  if (live === undefined || live.notTheRuns === true) return undefined;
  if (live.state !== 'waiting' && live.state !== 'running') return undefined;
  return { record: kept, state: live.state, detail: live.detail };
}

/**
 * The record of the dir's last detached run, made again from its entry, for
 * a run dir whose run.json is gone or cannot be believed. It says the run
 * was submitted, so that `status` asks the engine how it stands and records
 * that, `wait` follows it and `cancel` can stop it. Undefined when this
 * host keeps no entry for the dir.
 */
export async function keptRecord(
  env: NodeJS.ProcessEnv,
  runDir: string,
): Promise<RunRecord | undefined> {
  const entry = await entryOf(env, runDir);
  if (entry === undefined) return undefined;
  return {
    run_id: entry.run_id,
    status: 'submitted',
    exit_code: null,
    started_at: entry.started_at,
    ended_at: null,
    duration_s: null,
    staging_dir: entry.run_dir,
    backend: { type: entry.backend, config: { type: entry.backend } },
    stages: {
      generate: { status: 'succeeded' },
      run: { status: 'running' },
      postprocess: { status: 'pending' },
    },
    postprocess: [],
    modelrun_version: VERSION,
    host: {},
    handle: entry.handle,
    ...(entry.logs === undefined ? {} : { detached: { logs: entry.logs } }),
  };
}

/** The entry kept for the run dir, whichever run of it that was; undefined when there is none readable. */
async function entryOf(env: NodeJS.ProcessEnv, runDir: string): Promise<DetachedEntry | undefined> {
  const path = await entryPath(env, runDir, { create: false }).catch(() => undefined);
  const text = path === undefined ? undefined : await readOwnFile(path).catch(() => undefined);
  if (text === undefined) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEntry(entry)) return undefined;
  const real = await realpath(runDir).catch(() => undefined);
  return entry.run_dir === real ? entry : undefined;
}

function isEntry(value: unknown): value is DetachedEntry {
  const text = (v: unknown) => typeof v === 'string';
  return (
    isRecord(value) &&
    text(value.run_dir) &&
    text(value.run_id) &&
    text(value.started_at) &&
    text(value.backend) &&
    isRecord(value.handle) &&
    text(value.handle.kind) &&
    isRecord(value.files) &&
    text(value.files.model) &&
    (value.files.backend === undefined || text(value.files.backend)) &&
    Array.isArray(value.files.postprocessors) &&
    value.files.postprocessors.every(text) &&
    (value.files.overrides === undefined ||
      (Array.isArray(value.files.overrides) &&
        value.files.overrides.every(
          (pair) => Array.isArray(pair) && pair.length === 2 && pair.every(text),
        ))) &&
    (value.files.site_config === undefined || typeof value.files.site_config === 'boolean') &&
    (value.postprocess_job === undefined ||
      (isRecord(value.postprocess_job) && text(value.postprocess_job.kind))) &&
    (value.logs === undefined ||
      (isRecord(value.logs) && text(value.logs.stdout) && text(value.logs.stderr)))
  );
}
