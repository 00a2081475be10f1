import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { visibleName } from '../exec/visible-name.js';
import type { RunRecord } from '../model/run-record.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { findRuns } from '../runs/list.js';
import { viewRun } from '../runs/live.js';
import { DEFAULT_RUNS_DIR } from '../runs/locate.js';
import type { RunsOptions } from './command-options.js';
import type { CommandContext } from './context.js';

/** Lists the runs under folders from their run.json files, newest first. */
export async function runRunsList(
  options: RunsOptions,
  { output, env, cwd }: Pick<CommandContext, 'output' | 'env' | 'cwd'>,
): Promise<number> {
  const dirs = (options.dirs.length > 0 ? options.dirs : [DEFAULT_RUNS_DIR]).map((dir) =>
    resolve(cwd, dir),
  );
  for (const dir of dirs)
    if (
      !(await stat(dir).then(
        (found) => found.isDirectory(),
        () => false,
      ))
    )
      output.warn(`${visibleName(dir)} does not exist, or is not a folder`);
  let runs = await findRuns(dirs, (dir) =>
    output.warn(
      `${visibleName(dir)}: its ${RUN_RECORD_PATH} holds no run record modelrun can read; not listed`,
    ),
  );
  if (options.refresh)
    runs = await Promise.all(
      runs.map(async (run) => {
        const view = await viewRun(run, env);
        if (view.reconciled !== undefined && view.record.detached !== undefined)
          output.status(`${view.dir}: recorded ${view.record.status}: ${view.reconciled}`);
        else if (view.reconciled !== undefined)
          output.warn(`${view.dir}: marked failed: ${view.reconciled}`);
        return view;
      }),
    );
  if (options.status !== undefined)
    runs = runs.filter((run) => run.record.status === options.status);
  const rows = runs.map(({ dir, record }) => row(dir, record));
  if (options.json) {
    output.maskedRaw(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    output.info(`no runs in ${dirs.join(', ')}`);
    return 0;
  }
  const table: string[][] = [
    ['RUN ID', 'STATUS', 'BACKEND', 'STARTED', 'DURATION', 'EXIT', 'RUN DIR'],
    // What records hold is shown as text a person can read: no control character moves the cursor.
    ...rows.map((r) =>
      [
        r.run_id,
        r.status,
        r.backend,
        r.started_at,
        r.duration_s === null ? '-' : `${r.duration_s} s`,
        r.exit_code === null ? '-' : String(r.exit_code),
        r.run_dir,
      ].map((cell) => visibleName(String(cell))),
    ),
  ];
  const widths =
    table[0]?.map((_, i) => Math.max(...table.map((line) => line[i]?.length ?? 0))) ?? [];
  for (const line of table)
    output.maskedResult(
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  '),
    );
  return 0;
}

function row(dir: string, record: RunRecord) {
  return {
    run_id: record.run_id,
    status: record.status,
    backend: record.backend.type,
    started_at: record.started_at,
    duration_s: record.duration_s,
    exit_code: record.exit_code,
    run_dir: dir,
  };
}
