import { setTimeout as sleep } from 'node:timers/promises';
import { visibleName } from '../exec/visible-name.js';
import { awaitsPostprocessing, isUnderway, type RunRecord } from '../model/run-record.js';
import { watchEnd } from '../runs/end-watch.js';
import { type FoundRun, locateRun } from '../runs/locate.js';
import { copyLog, openLog, runLogPath, writingTo } from '../runs/log-reader.js';
import type { WaitOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { ensembleAt, ensembleWait } from './ensemble-runs.js';
import { postprocessDetached } from './run-finish.js';
import { statusExitCode } from './run-status.js';

/** How often `wait` looks for new output and at the run's record. */
const POLL_MS = 250;

/**
 * Re-attaches to a run: prints what the model writes from now on (stdout
 * to stdout, stderr to stderr), waits for the run to end, and exits as
 * `status` does: 0 once it has succeeded, 1 when it failed, timed out or was
 * cancelled. Ctrl-C stops the waiting only; the run goes on. Any number of
 * waits may follow one run: they only read.
 */
export async function runWait(options: WaitOptions, ctx: CommandContext): Promise<number> {
  const { output, env, cwd, terminal } = ctx;
  const ensemble = await ensembleAt(options.run, cwd, ctx.env);
  if (ensemble !== undefined) return ensembleWait(ensemble, options.json, ctx);
  const found = await locateRun(options.run, { cwd, env });
  let record = found.record;
  // Under --json, stdout carries only the record; the model's and postprocessors' output goes to stderr.
  const echo = options.json ? { stdout: terminal.stderr, stderr: terminal.stderr } : terminal;
  if (isUnderway(record)) {
    output.status(
      `waiting for ${record.run_id} (${found.dir}); Ctrl-C stops the waiting, not the run`,
    );
    const end = await follow(found, env, echo, (line) => output.warn(line));
    if (end.replaced) {
      // Its own end is in the history now, not in run.json: say so, and do not pass it off as the new run's.
      output.error(
        visibleName(
          `${record.run_id} was replaced by a newer run in ${found.dir} before its end was seen`,
        ),
        'its record is in .modelrun/history there; `modelrun status` shows the newer run',
      );
      return 1;
    }
    record = end.record;
  }
  // A detached run's postprocessing is left to whoever waits for it.
  if (awaitsPostprocessing(record)) {
    const finished = await postprocessDetached({ ...found, record }, ctx, echo);
    if (typeof finished === 'number') return finished;
    if (finished.started_at !== record.started_at) {
      output.error(
        visibleName(
          `${record.run_id} was replaced by a newer run in ${found.dir} before it was postprocessed`,
        ),
        'its record is in .modelrun/history there; `modelrun status` shows the newer run',
      );
      return 1;
    }
    const interrupted = ctx.session.exitCode();
    if (interrupted !== undefined) {
      output.error(
        visibleName(`the postprocessing of ${record.run_id} was interrupted; it is still to do`),
        `run \`modelrun wait ${found.dir}\` again to postprocess it`,
      );
      return interrupted;
    }
    record = finished;
  }
  const line = visibleName(
    `${record.run_id} ${record.status}${record.exit_code === null ? '' : ` (exit code ${record.exit_code})`}${record.reason === undefined ? '' : `: ${record.reason}`}`,
  );
  if (options.json) output.maskedRaw(`${JSON.stringify(record, null, 2)}\n`);
  else if (record.status === 'succeeded') output.maskedInfo(output.stderrStyle.success(line));
  else output.maskedInfo(output.stderrStyle.failure(line));
  return statusExitCode(record);
}

/** Copies both logs from their ends as they grow, until the record says the run has ended. */
async function follow(
  found: FoundRun,
  env: NodeJS.ProcessEnv,
  terminal: CommandContext['terminal'],
  warn: (line: string) => void,
): Promise<{ record: RunRecord; replaced: boolean }> {
  const streams = (['stdout', 'stderr'] as const).map((name) => ({ name, sink: terminal[name] }));
  const shown = await Promise.all(
    streams.map(async ({ name, sink }) => {
      // A log that cannot be vouched for is not shown; the wait for the end goes on.
      const path = await runLogPath(env, found.dir, found.record, name).catch((error: Error) => {
        warn(`${error.message}; waiting without showing it`);
        return undefined;
      });
      if (path === undefined) return undefined;
      const file = await openLog(path);
      return { name, path, file, sink, at: file === undefined ? 0 : (await file.stat()).size };
    }),
  );
  const logs = shown.filter((log) => log !== undefined);
  const look = watchEnd(found, env);
  try {
    for (;;) {
      const now = await look();
      // Read after the look at the record: a run writes its last output before its end.
      for (const log of logs) {
        // A log the run had not yet made when the wait began.
        log.file ??= await openLog(log.path);
        if (log.file !== undefined) log.at = await copyLog(log.file, log.at, writingTo(log.sink));
      }
      if (now.ended) return now;
      await sleep(POLL_MS);
    }
  } finally {
    for (const log of logs) await log.file?.close();
  }
}
