import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunFailedError, UsageError } from '../errors.js';
import { visibleName, withoutControls } from '../exec/visible-name.js';
import {
  type EnsembleRecord,
  type EnsembleRecordRead,
  readEnsembleRecord,
  readEnsembleRecordFile,
} from '../model/ensemble-record.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { DEFAULT_RUNS_DIR, isRunIdLike } from '../runs/locate.js';
import type { CommandContext } from './context.js';
import { type FoundEnsemble, type Liveness, liveness } from './ensemble-live.js';
import { printEnsembleSummary } from './ensemble-report.js';
import { memberLine } from './ensemble-view.js';

/**
 * `status`, `wait` and `cancel` of an ensemble (and where `logs` finds it), given its folder
 * (the one that holds ensemble.json): what its record says, and whether the
 * modelrun that runs it is still there.
 */

export type { FoundEnsemble };

/** How often `wait` looks at the record. */
const POLL_MS = 500;

/** How long a record may say running once its modelrun has gone: its guardian ends it meanwhile. */
const GUARDIAN_MS = 15_000;

/**
 * The ensemble RUN names, when it names the folder of one: a folder with
 * ensemble.json and no run record of its own. Undefined for anything else,
 * which is a run's to look up.
 */
export async function ensembleAt(
  given: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<FoundEnsemble | undefined> {
  if (given === '') return undefined;
  const dir = await realpath(resolve(cwd, given)).catch(() => undefined);
  // Nothing of that name here: an id, looked up in ./simulations as a run id is (locate.ts).
  if (dir === undefined)
    return isRunIdLike(given) ? ensembleAt(join(DEFAULT_RUNS_DIR, given), cwd, env) : undefined;
  const found = await stat(dir);
  if (found.isFile()) return ensembleOfFile(dir, given, cwd, env);
  if (!found.isDirectory()) return undefined;
  if (
    await stat(join(dir, RUN_RECORD_PATH)).then(
      () => true,
      () => false,
    )
  )
    return undefined;
  const read = await readEnsembleRecordFile(dir);
  return read.kind === 'none' ? undefined : foundIn(dir, read);
}

/**
 * The ensemble an ensemble file runs, found in the folder it names (with no
 * --set values); undefined for a file of another kind.
 */
async function ensembleOfFile(
  path: string,
  given: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<FoundEnsemble | undefined> {
  const [{ kindOfFile }, { loadEnsemble }] = await Promise.all([
    import('../load/any-file.js'),
    import('../ensemble/load-ensemble.js'),
  ]);
  if (kindOfFile(path, env) !== 'ensemble') return undefined;
  const loaded = loadEnsemble({ ensembleFile: path, postprocessorConfigs: [] }, { env, cwd });
  if ('errors' in loaded) throw loaded.errors[0];
  const { dir } = loaded.ensemble;
  const read = await readEnsembleRecordFile(dir);
  if (read.kind === 'none')
    throw new UsageError(
      `${visibleName(given)} is an ensemble file, and its folder ${visibleName(dir)} holds no ensemble.json`,
      {
        hint: `run it with \`modelrun ensemble ${visibleName(given)}\`; an ensemble whose folder --set values moved is named by that folder`,
      },
    );
  return foundIn(dir, read);
}

/**
 * The ensemble whose record was read in `dir`; a record that is not a whole
 * one is refused, saying which field, never passed on to fail later.
 */
async function foundIn(
  dir: string,
  read: Exclude<EnsembleRecordRead, { kind: 'none' }>,
): Promise<FoundEnsemble> {
  if (read.kind === 'damaged')
    throw new RunFailedError(
      `${visibleName(read.path)} is not an ensemble record that modelrun can read: ${read.problem}`,
      {
        hint: `a member may have written over it, or it was edited; each member's run dir keeps its own record (\`modelrun runs ${visibleName(dir)}\` lists them): put the file back, or move it aside and run the ensemble again`,
      },
    );
  const { record } = read;
  const [here, named] = await Promise.all(
    [dir, record.dir].map((path) => realpath(path).catch(() => undefined)),
  );
  return { dir, record, own: here !== undefined && here === named };
}

/**
 * Refuses to wait for or cancel, from a copy of its folder (or one moved
 * since), an ensemble whose modelrun runs the folder its record names: it
 * would signal that ensemble, or wait on a record nothing here will end.
 */
function refuseAnotherFolders(found: FoundEnsemble, verb: 'wait for' | 'cancel'): void {
  if (liveness(found) !== 'another-folder') return;
  throw new RunFailedError(
    `${visibleName(found.dir)} holds the record of another folder's ensemble: ${visibleName(found.record.ensemble_id)} runs in ${visibleName(found.record.dir)}, not here`,
    {
      hint: `this folder is a copy, or was moved since the ensemble began: ${verb} the ensemble from the folder it was started in (move it back first, if it was moved)`,
    },
  );
}

export function ensembleStatus(found: FoundEnsemble, json: boolean, ctx: CommandContext): number {
  const { record } = found;
  const live = liveness(found);
  if (json) {
    ctx.output.maskedRaw(`${JSON.stringify({ ensemble_dir: found.dir, live, record }, null, 2)}\n`);
    return exitCodeOf(record, live);
  }
  const t = record.totals;
  const rows: [string, string][] = [
    ['ensemble', record.ensemble_id],
    ['status', statusWord(found, live)],
    ['backend', record.backend.type],
    ['started', record.started_at],
    ...(record.ended_at === null ? [] : [['ended', record.ended_at] as [string, string]]),
    [
      'members',
      `${t.members}: ${t.running} running, ${t.pending} pending, ${t.succeeded} succeeded, ${t.failed} failed, ${t.cancelled} cancelled, ${t.skipped} skipped`,
    ],
    // The owner is shown only of this folder's ensemble: a copy's runs another folder.
    ...(record.owner === undefined || live === 'ended' || live === 'another-folder'
      ? []
      : [['modelrun', `pid ${record.owner.pid} on ${record.owner.host}`] as [string, string]]),
    ...(record.log === undefined ? [] : [['log', record.log] as [string, string]]),
    ['dir', found.dir],
  ];
  // ensemble.json can be rewritten by a model: its text reaches the terminal escaped.
  for (const [label, value] of rows)
    ctx.output.maskedResult(`${label.padEnd(9)} ${withoutControls(value)}`);
  const shown = record.members.filter((m) => m.status === 'running' || m.status === 'failed');
  for (const member of shown)
    ctx.output.maskedResult(
      `  ${memberLine(member, { ended: t.members - t.pending - t.running, of: t.members })}`,
    );
  // An aggregate step that did not succeed is why an ensemble of succeeded members failed.
  for (const post of record.aggregate)
    if (post.status !== 'succeeded')
      ctx.output.maskedResult(
        withoutControls(`  aggregate ${post.type}: ${post.status}: ${post.summary}`),
      );
  return exitCodeOf(record, live);
}

/** The record's status, unless no modelrun runs it any more, or none runs it here. */
function statusWord({ record }: FoundEnsemble, live: Liveness): string {
  if (live === 'another-folder')
    return `running on record, but the record is another folder's (${visibleName(record.dir)}): this folder is a copy, or was moved, and nothing runs it here`;
  if (live !== 'gone') return record.status;
  return record.owner === undefined
    ? 'running on record, but it names no modelrun that runs it'
    : 'running on record, but its modelrun has gone';
}

/** 0 while it runs and once every member has succeeded; 1 otherwise, and for one no modelrun runs any more. */
function exitCodeOf(record: EnsembleRecord, live: Liveness): number {
  // One that runs on another host may run: this host cannot tell.
  if (record.status === 'running') return live === 'gone' || live === 'another-folder' ? 1 : 0;
  return record.status === 'succeeded' ? 0 : 1;
}

/** Waits for the ensemble to end, then prints its summary; Ctrl-C stops the waiting, not the ensemble. */
export async function ensembleWait(
  found: FoundEnsemble,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  refuseAnotherFolders(found, 'wait for');
  if (found.record.status === 'running')
    ctx.output.status(
      `waiting for ensemble ${found.record.ensemble_id} (${found.dir}); Ctrl-C stops the waiting, not the ensemble`,
    );
  const record = await untilEnded(found, ctx.session.signal);
  if (record === undefined) return ctx.session.exitCode() ?? 130;
  if (record.status === 'running') {
    ctx.output.error(
      record.owner === undefined
        ? `ensemble ${record.ensemble_id}'s record says running, but names no modelrun that runs it`
        : `the modelrun that ran ensemble ${record.ensemble_id} has gone, and its record still says running`,
      'its members may still run: `modelrun status` on each run dir says; run the ensemble again with --resume to finish it',
    );
    return 1;
  }
  // Its paths are this folder's, not those the record wrote: it may be a copy, or moved.
  const exitCode = exitCodeOf(record, 'ended');
  printEnsembleSummary({ record, exitCode }, ctx, json, undefined, found.dir);
  return exitCode;
}

/**
 * The record once it no longer says running; the last one read when its
 * modelrun has been gone for longer than its guardian takes, or at once
 * when it names none (there is no guardian to wait for either); undefined
 * when the waiting was interrupted.
 */
async function untilEnded(
  found: FoundEnsemble,
  signal: AbortSignal,
): Promise<EnsembleRecord | undefined> {
  let record = found.record;
  let goneSince: number | undefined;
  while (record.status === 'running') {
    if (signal.aborted) return undefined;
    const live = liveness({ ...found, record });
    if (live === 'running') goneSince = undefined;
    else if (record.owner === undefined) return record;
    else goneSince ??= Date.now();
    if (goneSince !== undefined && Date.now() - goneSince > GUARDIAN_MS) return record;
    await sleep(POLL_MS);
    record = (await readEnsembleRecord(found.dir)) ?? record;
  }
  return record;
}

/** Stops every member through the modelrun that runs them, then waits for its record to end. */
export async function ensembleCancel(
  found: FoundEnsemble,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  const { record } = found;
  refuseAnotherFolders(found, 'cancel');
  const live = liveness(found);
  if (live === 'elsewhere')
    throw new UsageError(
      `ensemble ${record.ensemble_id} is run by modelrun pid ${record.owner?.pid} on ${record.owner?.host}, not on this host`,
      { hint: `run \`modelrun cancel ${found.dir}\` there` },
    );
  if (live === 'gone') {
    ctx.output.error(
      `ensemble ${record.ensemble_id} says it is running, but the modelrun that ran it has gone: there is nothing to signal`,
      'its guardian stopped what the members had started; `modelrun status` on each run dir says how each ended',
    );
    return 1;
  }
  if (live === 'running' && record.owner !== undefined) {
    // SIGTERM: the modelrun cancels every member, as Ctrl-C would, and ends its record.
    process.kill(record.owner.pid, 'SIGTERM');
    ctx.output.status(`asked modelrun (pid ${record.owner.pid}) to cancel every member`);
  }
  const ended = await untilEnded(found, ctx.session.signal);
  if (ended === undefined) return ctx.session.exitCode() ?? 130;
  if (json) {
    ctx.output.maskedRaw(
      `${JSON.stringify({ ensemble_dir: found.dir, record: ended }, null, 2)}\n`,
    );
    return 0;
  }
  ctx.output.maskedResult(
    live === 'ended'
      ? `ensemble ${ended.ensemble_id} had already ended: ${ended.status}`
      : `cancelled ensemble ${ended.ensemble_id}: ${ended.status}`,
  );
  return 0;
}
