import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BatchOptions, RunBatch } from '../backends/contract.js';
import { UsageError } from '../errors.js';
import { Launcher } from '../exec/launcher.js';
import { identify, type ProcessIdentity } from '../exec/process-identity.js';
import { interruptExitCode, type StopReason } from '../exec/stop-reason.js';
import { visibleLine } from '../exec/visible-name.js';
import type { GuardTask } from '../guardian/tasks.js';
import { pinFolder } from '../model/bookkeeping.js';
import {
  ENSEMBLE_RECORD,
  type EnsembleRecord,
  type EnsembleStatus,
  failUnfinishedEnsemble,
  type MemberEntry,
  readEnsembleRecord,
  writeEnsembleRecord,
} from '../model/ensemble-record.js';
import { type PostprocessRecord, RUN_RECORD_PATH, readRunRecord } from '../model/run-record.js';
import { lockStagingDir } from '../model/staging-lock.js';
import { assertStagingPlace, makeStagingDir } from '../model/staging-place.js';
import { VERSION } from '../package-info.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { stateFolder } from '../runs/state-folder.js';
import { maskSecretKeys, type Redactor } from '../secrets.js';
import type { PipelineResult, RunChange, RunRequest } from './pipeline.js';
import { type PostprocessDeps, runPostprocessors } from './postprocess-stage.js';
import { withStagingErrors } from './staging.js';

/**
 * An ensemble's members, run in one process: at most `maxParallel` at once,
 * each a run of its own in the ensemble's folder, with ensemble.json kept as
 * they go; then the aggregate step, once, in the ensemble's folder. A
 * member's failure does not stop the others (unless `failFast`); an
 * interrupt stops them all, and no member starts after it.
 */

export interface EnsembleMemberRequest {
  index: number;
  replica: number;
  runId: string;
  /** Its values by path, as ensemble.json records them (secret-named keys are masked there). */
  values: Record<string, unknown>;
  /** The hash of what it runs (model/inputs-digest.ts). */
  inputs: string;
  /** Its run request, made when asked for: a member waiting its turn holds none. */
  request(): RunRequest;
}

export interface EnsembleRequest {
  id: string;
  dir: string;
  file: string;
  /** The ensemble file's folder, which the aggregate step is told of. */
  fileDir: string;
  backendType: string;
  maxParallel: number;
  failFast: boolean;
  members: EnsembleMemberRequest[];
  aggregate: PostprocessorConfig[];
  overrides: string[];
  /** Skip members whose last run succeeded with the same inputs. */
  resume: boolean;
  /** Run only these members (by index); the others keep what ensemble.json said of them. */
  only?: ReadonlySet<number>;
  /** Run with --detach: the log this modelrun's lines go to, for `modelrun logs`. */
  log?: string;
}

export interface EnsembleDeps extends Omit<PostprocessDeps, 'signal'> {
  /** Aborted on an interrupt: running members are cancelled, and no other starts. */
  signal: AbortSignal;
  /**
   * Runs one member's request to its end, as `modelrun run` would, as a
   * member of `batch` when its engine runs the ensemble as one submission;
   * `observe` hears of each change of its status and handle.
   */
  runMember(
    request: RunRequest,
    member: {
      signal: AbortSignal;
      batch?: RunBatch;
      launcher?: Launcher;
      observe(change: RunChange): void;
    },
  ): Promise<PipelineResult>;
  /** Each change of a member's status, for the live view or its lines. */
  onMember?(
    entry: MemberEntry,
    progress: { ended: number; of: number; members: readonly MemberEntry[] },
  ): void;
  /** The batch that the members' engine runs them as, when it throttles them itself (a Slurm job array). */
  openBatch?(options: BatchOptions<GuardTask>): Promise<RunBatch>;
  /** How long ensemble.json may lag behind the members (default 1 s): each write rewrites all of it. */
  writeEveryMs?: number;
  redactor: Redactor;
}

export interface EnsembleResult {
  record: EnsembleRecord;
  exitCode: number;
}

export async function runEnsemble(
  request: EnsembleRequest,
  deps: EnsembleDeps,
): Promise<EnsembleResult> {
  const { dir } = request;
  // The places a run is never staged in (/, your home, /proc, a folder of yours) hold no ensemble either.
  await assertStagingPlace(dir, dirname(dir), homedir());
  await withStagingErrors(dir, dirname(dir), () => makeStagingDir(dir));
  await refuseRunFolder(dir);
  await refuseForeignRecord(dir);
  const lock = await withStagingErrors(dir, dirname(dir), () =>
    lockStagingDir(
      dir,
      (error) => deps.status(`warning: the ensemble's lock was lost: ${error.message}`),
      deps.guard,
    ),
  );
  // Held open: ensemble.json is written into this very folder, whatever a model puts at its path.
  const real = await realpath(dir);
  const pinned = await pinFolder(real, { create: false });
  try {
    const identity = identityOf(await stat(pinned?.path ?? real));
    return await runLocked(request, deps, { real, records: pinned?.path ?? real, identity });
  } finally {
    await pinned?.close();
    await lock.release();
  }
}

/**
 * Where the ensemble is: its folder's real path when it started, where its
 * record is written, and which folder it is (another folder made at the
 * same path is not it).
 */
interface Place {
  real: string;
  records: string;
  identity: string;
  /** The members' folders there before the ensemble began (an earlier run's), by run id. */
  before?: Map<string, FolderBefore>;
}

/** A member's folder found before the ensemble began: which folder, and whose run record it holds. */
interface FolderBefore {
  identity: string;
  /** The run id its run.json names, when that is another member's (a model moved its folder there). */
  otherRun?: string;
}

/** A folder's identity on its file system. */
const identityOf = (stats: { dev: number; ino: number }) => `${stats.dev}:${stats.ino}`;

/**
 * A regular file at ensemble.json that is no record of modelrun's is the
 * user's (the ensemble file itself, named so), and a link there is never
 * modelrun's: neither is replaced.
 */
async function refuseForeignRecord(dir: string): Promise<void> {
  const path = join(dir, ENSEMBLE_RECORD);
  const stats = await lstat(path).catch(() => undefined);
  // modelrun writes its record as a file, never a link: a link there is someone else's, whatever it leads to.
  if (stats?.isSymbolicLink() === true)
    throw new UsageError(
      `${path} is a link (to ${await readlink(path).catch(() => '?')}) that modelrun did not make, and modelrun does not replace a link it did not make`,
      { hint: 'move that link, or give the ensemble another ensemble_id or output_dir' },
    );
  if (stats?.isFile() !== true || (await readEnsembleRecord(dir)) !== undefined) return;
  throw new UsageError(
    `${path} is not an ensemble record of modelrun's, and modelrun does not overwrite a file it did not write`,
    { hint: 'move that file, or give the ensemble another ensemble_id or output_dir' },
  );
}

/**
 * Why a member cannot be staged now, or undefined: the ensemble's folder
 * must still be where it was (not moved, nor replaced by a link), and the
 * member's folder in it no link or file that a model may have put there.
 */
async function placeProblem(dir: string, place: Place, runId: string): Promise<string | undefined> {
  const now = await realpath(dir).catch(() => undefined);
  if (now !== place.real)
    return `the ensemble's folder ${dir} ${now === undefined ? 'is gone' : `now leads to ${now}`}: it was moved, removed or replaced by a link, so no member is staged there`;
  const found = await stat(dir).catch(() => undefined);
  if (found === undefined || identityOf(found) !== place.identity)
    return `the ensemble's folder ${dir} was moved or removed, and another folder now stands at its path, which this ensemble did not make; no member is staged there`;
  const stats = await lstat(join(dir, runId)).catch(() => undefined);
  if (stats === undefined) return undefined;
  // A folder there is an earlier run's, kept from before the ensemble began;
  // one that came during it is someone else's (a model beside it moved its own there).
  if (stats.isDirectory()) {
    const before = place.before?.get(runId);
    if (before?.identity !== identityOf(stats))
      return `its folder ${join(dir, runId)} appeared while the ensemble ran, and modelrun did not make it; it is left as it is`;
    if (before.otherRun !== undefined)
      return `its folder ${join(dir, runId)} holds the run record of ${before.otherRun}, not its own (a model moved its folder there?); it is left as it is`;
    return undefined;
  }
  const what = stats.isSymbolicLink()
    ? `a link to ${await readlink(join(dir, runId)).catch(() => '?')}`
    : 'not a folder';
  return `its folder ${join(dir, runId)} is ${what}, which modelrun did not make; it is left as it is`;
}

/** The members' folders already in the ensemble's folder, by run id. */
async function foldersBefore(
  dir: string,
  members: EnsembleMemberRequest[],
): Promise<Map<string, FolderBefore>> {
  const names = new Set(await readdir(dir).catch(() => []));
  const before = new Map<string, FolderBefore>();
  for (const { runId } of members) {
    if (!names.has(runId)) continue;
    const stats = await lstat(join(dir, runId)).catch(() => undefined);
    if (!stats?.isDirectory()) continue;
    const kept = await readRunRecord(join(dir, runId, RUN_RECORD_PATH)).catch(() => undefined);
    const otherRun = kept !== undefined && kept.run_id !== runId ? kept.run_id : undefined;
    before.set(runId, {
      identity: identityOf(stats),
      ...(otherRun === undefined ? {} : { otherRun }),
    });
  }
  return before;
}

async function runLocked(
  request: EnsembleRequest,
  deps: EnsembleDeps,
  place: Place,
): Promise<EnsembleResult> {
  const earlier = await readEnsembleRecord(place.records);
  const record = newRecord(request, earlier);
  const entries = new Map(record.members.map((entry) => [entry.index, entry]));
  const toRun: EnsembleMemberRequest[] = [];
  for (const member of request.members) {
    const entry = entries.get(member.index) as MemberEntry;
    if (request.only !== undefined && !request.only.has(member.index)) continue;
    const skip = request.resume ? await doneBefore(member, earlier, request.dir) : undefined;
    if (skip !== undefined) {
      Object.assign(entry, skip, { status: 'skipped', reason: skip.reason });
      continue;
    }
    toRun.push(member);
  }
  // Written at once: a folder that takes no record fails the ensemble before any member runs.
  await writeEnsembleRecord(place.records, record);
  place.before = await foldersBefore(request.dir, toRun);
  // Should modelrun die from here on, its guardian ends the record as failed.
  const unguard = deps.guard?.({ kind: 'ensemble-record', dir: request.dir });
  try {
    return await runMembers(request, deps, record, toRun, place);
  } catch (error) {
    // modelrun's own failure (an engine that went away) still ends the ensemble on record.
    await failUnfinishedEnsemble(request.dir, deps.redactor.redact((error as Error).message));
    throw error;
  } finally {
    unguard?.();
  }
}

async function runMembers(
  request: EnsembleRequest,
  deps: EnsembleDeps,
  record: EnsembleRecord,
  toRun: EnsembleMemberRequest[],
  place: Place,
): Promise<EnsembleResult> {
  const entries = new Map(record.members.map((entry) => [entry.index, entry]));
  const writer = new EnsembleWriter(place.records, record, deps.writeEveryMs ?? 1000);
  // The members this run is about: those --only names, or all; the others keep their earlier ends.
  const chosen = record.members.filter(
    (m) => request.only === undefined || request.only.has(m.index),
  );

  // Stops the members still running when one fails under fail_fast.
  const failFast = new AbortController();
  const signal = AbortSignal.any([deps.signal, failFast.signal]);
  const changed = (entry: MemberEntry) => {
    // Counted, not filtered: a list of the ended members made at each change of each member
    // was garbage that grew with the square of the ensemble's size.
    let ended = 0;
    for (const m of chosen) if (m.status !== 'pending' && m.status !== 'running') ended++;
    deps.onMember?.(entry, { ended, of: chosen.length, members: chosen });
    writer.soon();
  };
  const running = (entry: MemberEntry, at?: string) => {
    entry.status = 'running';
    entry.started_at = at ?? new Date().toISOString();
    changed(entry);
  };
  // An engine that throttles the members itself (a Slurm array) gets them all at once.
  const batch = await deps.openBatch?.({
    id: request.id,
    dir: request.dir,
    members: toRun.map((member) => member.runId),
    maxParallel: request.maxParallel,
    env: deps.env,
    status: deps.status,
    signal,
    guard: deps.guard,
    // Out of the ensemble folder, where a member's model could put a link in the way of the engine's writes.
    logFolder: () => stateFolder(deps.env, 'ensembles', "an ensemble's job array keeps its log"),
  });
  // The members' processes start from a helper: Node's spawn forks all of modelrun each time.
  const launcher = new Launcher({ guard: deps.guard });
  let next = 0;
  const worker = async () => {
    for (;;) {
      const member = toRun[next++];
      if (member === undefined) return;
      const entry = entries.get(member.index) as MemberEntry;
      if (signal.aborted) {
        end(entry, 'cancelled', null, describe(signal.reason as StopReason, 'not started'));
        changed(entry);
        batch?.leave(member.runId);
        continue;
      }
      const refused = await placeProblem(request.dir, place, member.runId);
      if (refused !== undefined) {
        end(entry, 'failed', null, refused);
        changed(entry);
        batch?.leave(member.runId);
        continue;
      }
      // A member of a batch waits in the engine's queue until the engine says it runs.
      if (batch === undefined) running(entry);
      const observe = (change: RunChange) => {
        if ('handle' in change) entry.handle = change.handle;
        if ('status' in change && change.status === 'running' && entry.status === 'pending')
          running(entry, change.at);
        else writer.soon();
      };
      // A request that can no longer be made fails its member alone, as a run that fails.
      const result = await Promise.resolve()
        .then(() =>
          deps.runMember(member.request(), {
            signal,
            ...(batch === undefined ? { launcher } : { batch }),
            observe,
          }),
        )
        .catch((error: unknown) => error);
      batch?.leave(member.runId);
      if (result instanceof Error || !isResult(result)) {
        const message = deps.redactor.redact(String((result as Error)?.message));
        end(entry, signal.aborted ? 'cancelled' : 'failed', null, message);
      } else {
        const run = result.record;
        const status =
          run.status === 'succeeded'
            ? 'succeeded'
            : run.status === 'cancelled'
              ? 'cancelled'
              : 'failed';
        // A model that failed on its own says why in its stderr: its last line is the reason.
        const said = result.stderrTail.findLast((line) => line.trim() !== '');
        // The model's words on modelrun's line: no escape sequence of its own reaches the terminal.
        // Masked again once its colours are gone: a colour code inside a secret's value hid it.
        const shown =
          said === undefined ? undefined : deps.redactor.redact(visibleLine(said.trim()));
        const reason =
          run.reason ??
          (status === 'failed' && run.signal !== undefined
            ? `killed by ${run.signal}`
            : status === 'failed' && shown !== undefined
              ? `stderr: ${shown}`
              : undefined);
        end(entry, status, run.exit_code, reason);
        if (run.handle !== undefined) entry.handle = run.handle;
      }
      changed(entry);
      if (
        (entry.status as MemberEntry['status']) === 'failed' &&
        request.failFast &&
        !failFast.signal.aborted
      )
        failFast.abort({ kind: 'fail-fast', runId: entry.run_id } satisfies StopReason);
    }
  };
  const workers = Math.max(
    1,
    batch === undefined ? Math.min(request.maxParallel, toRun.length) : toRun.length,
  );
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    launcher.close();
    await batch?.close();
  }

  // The aggregate step reads ensemble.json: it sees every member's end.
  await writer.now();
  if (!deps.signal.aborted && request.aggregate.length > 0) {
    // ensemble.json says which postprocessor runs, so that a modelrun killed meanwhile leaves a record that says it.
    const starting = (ended: readonly PostprocessRecord[], type: string) => {
      record.aggregate = [...ended, { type, status: 'running', summary: 'running' }];
      return writer.now();
    };
    const post = await runPostprocessors(
      request.aggregate,
      { model: { run_id: request.id, output_dir: dirname(request.dir) }, stagingDir: request.dir },
      { ...deps, env: { ...deps.env, ...aggregateEnv(request) }, signal: deps.signal, starting },
    );
    record.aggregate = post.results;
  }
  record.status = ensembleStatus(chosen, record, deps.signal.aborted);
  const ended = new Date();
  record.ended_at = ended.toISOString();
  record.duration_s = Math.round(ended.getTime() - Date.parse(record.started_at)) / 1000;
  await writer.close();
  const stop = deps.signal.aborted ? (deps.signal.reason as StopReason) : undefined;
  const exitCode =
    record.status === 'succeeded'
      ? 0
      : stop?.kind === 'interrupt'
        ? interruptExitCode(stop.signal)
        : 1;
  return { record, exitCode };
}

/** An ensemble's folder is not a run's: members staged in a run's folder would mix with its outputs. */
async function refuseRunFolder(dir: string): Promise<void> {
  const run = await readRunRecord(join(dir, RUN_RECORD_PATH));
  if (run !== undefined)
    throw new UsageError(`${dir} is the folder of the run ${run.run_id}, not of an ensemble`, {
      hint: 'give the ensemble another ensemble_id or output_dir',
    });
}

function newRecord(request: EnsembleRequest, earlier: EnsembleRecord | undefined): EnsembleRecord {
  const before = new Map(earlier?.members.map((entry) => [entry.run_id, entry]));
  return {
    ensemble_id: request.id,
    file: request.file,
    dir: request.dir,
    status: 'running',
    started_at: new Date().toISOString(),
    ended_at: null,
    duration_s: null,
    backend: { type: request.backendType },
    max_parallel: request.maxParallel,
    fail_fast: request.failFast,
    ...(request.overrides.length === 0 ? {} : { overrides: request.overrides }),
    totals: {
      members: 0,
      pending: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0,
    },
    members: request.members.map((member): MemberEntry => {
      const kept =
        request.only !== undefined && !request.only.has(member.index)
          ? before.get(member.runId)
          : undefined;
      return {
        index: member.index,
        replica: member.replica,
        run_id: member.runId,
        parameters: maskSecretKeys(member.values),
        // Skipped then as done before: it stands as succeeded.
        status: kept?.status === 'skipped' ? 'succeeded' : (kept?.status ?? 'pending'),
        exit_code: kept?.exit_code ?? null,
        started_at: kept?.started_at ?? null,
        ended_at: kept?.ended_at ?? null,
        duration_s: kept?.duration_s ?? null,
        run_dir: join(request.dir, member.runId),
        // A member --only leaves alone keeps the inputs it ran with: with today's,
        // a later --resume would skip it as done with inputs it never ran with.
        inputs: kept === undefined ? member.inputs : kept.inputs,
        ...(kept?.reason === undefined || kept.status === 'skipped' ? {} : { reason: kept.reason }),
        ...(kept?.handle === undefined ? {} : { handle: kept.handle }),
      };
    }),
    aggregate: [],
    modelrun_version: VERSION,
    ...ownerOf(),
    ...(request.log === undefined ? {} : { log: request.log }),
  };
}

/** This process, by its whole identity, for a record that another shell stops it through. */
function ownerOf(): { owner?: ProcessIdentity } {
  const owner = identify(process.pid);
  return owner === undefined ? {} : { owner };
}

/**
 * For --resume: what the member's entry keeps when its last run succeeded
 * with the same inputs, by ensemble.json and by its own run.json in the
 * ensemble's folder `dir`; undefined when it is to run again.
 */
async function doneBefore(
  member: EnsembleMemberRequest,
  earlier: EnsembleRecord | undefined,
  dir: string,
): Promise<(Partial<MemberEntry> & { reason: string }) | undefined> {
  const entry = earlier?.members.find((e) => e.run_id === member.runId);
  if (entry === undefined || entry.inputs !== member.inputs) return undefined;
  if (entry.status !== 'succeeded' && entry.status !== 'skipped') return undefined;
  // Its run dir here, not where the record says the ensemble ran: the folder may have moved since.
  const run = await readRunRecord(join(dir, member.runId, RUN_RECORD_PATH));
  if (run?.status !== 'succeeded') return undefined;
  return {
    exit_code: run.exit_code,
    started_at: run.started_at,
    ended_at: run.ended_at,
    duration_s: run.duration_s,
    reason: 'succeeded before with the same inputs (--resume)',
  };
}

function end(
  entry: MemberEntry,
  status: MemberEntry['status'],
  exitCode: number | null,
  reason?: string,
) {
  entry.status = status;
  entry.exit_code = exitCode;
  const ended = new Date();
  entry.ended_at = ended.toISOString();
  entry.duration_s =
    entry.started_at === null
      ? null
      : Math.round(ended.getTime() - Date.parse(entry.started_at)) / 1000;
  if (reason === undefined) delete entry.reason;
  else entry.reason = reason;
}

function ensembleStatus(
  chosen: readonly MemberEntry[],
  record: EnsembleRecord,
  interrupted: boolean,
): EnsembleStatus {
  if (interrupted) return 'cancelled';
  const bad = chosen.some((m) => !['succeeded', 'skipped'].includes(m.status));
  const aggregateFailed = record.aggregate.some((a) => a.status === 'failed');
  return bad || aggregateFailed ? 'failed' : 'succeeded';
}

/**
 * What the aggregate step is told besides the folder it runs in: the
 * ensemble's folder, and the ensemble file's, where a script kept beside
 * the file is found whatever output_dir says.
 */
export function aggregateEnv(
  request: Pick<EnsembleRequest, 'dir' | 'fileDir'>,
): Record<string, string> {
  return { MODELRUN_ENSEMBLE_DIR: request.dir, MODELRUN_ENSEMBLE_FILE_DIR: request.fileDir };
}

function describe(reason: StopReason | undefined, what: string): string {
  if (reason?.kind === 'fail-fast')
    return `${what}: member ${reason.runId} failed (fail_fast: true)`;
  if (reason?.kind === 'interrupt')
    return `${what}: the ensemble was cancelled by ${reason.signal}`;
  return `${what}: the ensemble was cancelled`;
}

function isResult(value: unknown): value is PipelineResult {
  return value !== null && typeof value === 'object' && 'record' in value;
}

/**
 * Writes ensemble.json at most every `everyMs`: each write is the whole
 * record, so a write per member change would make a large ensemble's
 * writing grow with the square of its size.
 */
class EnsembleWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly dir: string,
    private readonly record: EnsembleRecord,
    private readonly everyMs: number,
  ) {}

  soon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.now();
    }, this.everyMs);
  }

  now(): Promise<void> {
    this.writing = this.writing
      .then(() => writeEnsembleRecord(this.dir, this.record))
      .then(
        () => {
          // A write that failed once (a full disk) is made good by the next.
          this.failure = undefined;
        },
        (error: unknown) => {
          this.failure = error;
        },
      );
    return this.writing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.now();
    if (this.failure !== undefined) throw this.failure;
  }
}
