import { visibleName } from '../exec/visible-name.js';
import { isUnderway, type RunRecord } from '../model/run-record.js';
import { lockHolder } from '../model/staging-lock-files.js';
import { type RunView, viewRun } from '../runs/live.js';
import { locateRun } from '../runs/locate.js';
import type { StatusOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { ensembleAt, ensembleStatus } from './ensemble-runs.js';
import type { Output } from './output.js';

/** Shows a run's record with what its engine says now, putting right a record left `running`. */
export async function runStatus(options: StatusOptions, ctx: CommandContext): Promise<number> {
  const { output, env, cwd } = ctx;
  const ensemble = await ensembleAt(options.run, cwd, ctx.env);
  if (ensemble !== undefined) return ensembleStatus(ensemble, options.json, ctx);
  const view = await viewRun(await locateRun(options.run, { cwd, env }), env);
  if (options.json) output.maskedRaw(`${JSON.stringify(statusJson(view), null, 2)}\n`);
  else printStatus(view, output, await postprocessor(view.dir, view.record));
  return statusExitCode(view.record);
}

/** 0 while the run goes on and once it has succeeded; 1 when it failed, timed out or was cancelled. */
export function statusExitCode(record: RunRecord): number {
  return ['running', 'submitted', 'succeeded'].includes(record.status) ? 0 : 1;
}

function statusJson(view: RunView) {
  return {
    run_dir: view.dir,
    record: view.record,
    ...(view.live === undefined ? {} : { live: view.live }),
    owner: view.owner,
    ...(view.reconciled === undefined ? {} : { reconciled: view.reconciled }),
  };
}

/** Who postprocesses a detached run now: the modelrun that holds its dir while its postprocessing is pending. */
async function postprocessor(dir: string, record: RunRecord): Promise<string | undefined> {
  if (record.detached === undefined || isUnderway(record)) return undefined;
  if (record.stages.postprocess.status !== 'pending') return undefined;
  return lockHolder(dir);
}

function printStatus(view: RunView, output: Output, postprocessing?: string): void {
  const { record } = view;
  const { style } = output;
  const rows: [string, string][] = [
    ['run', record.run_id],
    ['status', statusWord(record, style)],
    ['backend', record.backend.type],
    ['started', record.started_at],
  ];
  if (record.ended_at !== null)
    rows.push(['ended', `${record.ended_at} (${record.duration_s ?? '?'} s)`]);
  if (record.exit_code !== null) rows.push(['exit code', String(record.exit_code)]);
  if (record.signal !== undefined) rows.push(['signal', record.signal]);
  if (record.reason !== undefined) rows.push(['reason', record.reason]);
  if (view.live !== undefined) rows.push(['engine', view.live.detail]);
  if (record.owner !== undefined && view.owner !== 'none')
    rows.push(['modelrun', ownerLine(record, view)]);
  if (record.detached !== undefined) {
    rows.push(['modelrun', 'none: detached, the job is the run']);
    rows.push(['output', record.detached.logs.stdout]);
    const job = record.detached.postprocess;
    if (record.stages.postprocess.status === 'pending')
      rows.push([
        'postprocess',
        postprocessing !== undefined
          ? `under way: ${postprocessing} holds the run dir and postprocesses it`
          : job !== undefined
            ? `pending: job ${String(job.handle.id)} runs it once the job has succeeded (log ${job.log})`
            : isUnderway(record)
              ? 'pending: `modelrun wait` runs it once the job has ended'
              : 'pending: `modelrun wait` runs it',
      ]);
  }
  rows.push(['run dir', view.dir]);
  const width = Math.max(...rows.map(([label]) => label.length));
  // The status word carries its colour; every other value is shown as text a person can read.
  for (const [label, value] of rows)
    output.maskedResult(
      `${label.padEnd(width)}  ${label === 'status' ? value : visibleName(value)}`,
    );
  if (view.reconciled !== undefined && record.detached !== undefined)
    output.status(`recorded the run's end: ${visibleName(view.reconciled)}`);
  else if (view.reconciled !== undefined)
    output.warn(
      `the record said the run was underway; now marked failed: ${visibleName(view.reconciled)}`,
    );
}

function statusWord(record: RunRecord, style: Output['style']): string {
  if (record.status === 'succeeded') return style.success(record.status);
  if (record.status === 'running' || record.status === 'submitted') return record.status;
  return style.failure(record.status);
}

function ownerLine(record: RunRecord, view: RunView): string {
  const owner = record.owner;
  if (owner === undefined) return '';
  const named = `pid ${owner.pid} on ${owner.host}`;
  if (view.owner === 'alive') return `${named}, following the run`;
  if (view.owner === 'gone') return `${named}, gone: nothing follows the run`;
  return `${named}, another machine: cannot tell from here`;
}
