import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DryRun } from '../backends/contract.js';
import { visibleLine } from '../exec/visible-name.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { count } from '../plural.js';
import type { PipelineResult } from '../run/pipeline.js';
import type { Output } from './output.js';

/** What --dry-run prints: exactly what would run, with secrets masked. */
export function printDryRun(
  dryRun: DryRun,
  stagingDir: string,
  output: Output,
  json: boolean,
): void {
  if (json) {
    output.raw(
      `${JSON.stringify({ dry_run: true, staging_dir: stagingDir, ...dryRun.data }, null, 2)}\n`,
    );
    return;
  }
  const rows: [string, string][] = [['staging dir', stagingDir], ...dryRun.lines];
  const width = Math.max(...rows.map(([label]) => label.length));
  output.result(output.style.bold('dry run: nothing was staged or started'));
  for (const [label, value] of rows) output.result(`  ${label.padEnd(width)}  ${value}`);
}

/** A dry run stopped by a signal: it wrote nothing, so there are no logs or record to point at. */
export function printInterruptedDryRun(stagingDir: string, output: Output, json: boolean): void {
  if (json) {
    output.raw(
      `${JSON.stringify({ dry_run: true, status: 'cancelled', staging_dir: stagingDir }, null, 2)}\n`,
    );
    return;
  }
  output.result(output.style.bold('dry run interrupted: nothing was staged or started'));
  output.result(`  staging dir  ${stagingDir}`);
}

/**
 * The end-of-run summary: status, duration, exit code, where things are,
 * postprocessing. The result comes masked from the pipeline, so it is
 * printed as it is.
 */
export function printSummary(result: PipelineResult, output: Output, json: boolean): void {
  const { record } = result;
  if (json) {
    output.maskedRaw(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  // The summary goes to stderr, so it is coloured by stderr's terminal.
  const style = output.stderrStyle;
  const ok = record.status === 'succeeded';
  const mark = ok ? style.success('✓') : style.failure('✗');
  const what = ok ? 'succeeded' : record.status.replace('_', ' ');
  const why = ok || record.reason === undefined ? '' : `: ${record.reason}`;
  const exit =
    record.exit_code === null
      ? record.signal
        ? `signal ${record.signal}`
        : 'no exit code'
      : `exit code ${record.exit_code}`;
  output.maskedInfo(
    `${mark} ${style.bold(record.run_id)} ${what}${why} (${exit}, ${formatSeconds(record.duration_s ?? 0)})`,
  );
  const dir = record.staging_dir;
  if (result.cleanup?.removed) {
    // Its logs and run.json went with it: point at nothing that is gone.
    output.maskedInfo(
      `  run dir   ${dir} (removed, with its logs and run.json: --cleanup-on-failure)`,
    );
  } else {
    // A model that moved its folder took its logs and record along: shown where they are.
    const where = result.movedTo ?? dir;
    const moved = result.movedTo === undefined ? '' : ` (moved there from ${dir} during the run)`;
    output.maskedInfo(`  run dir   ${where}${moved}`);
    if (record.backend.config.capture_output !== false) {
      const logs = [join(where, 'logs', 'stdout.log'), join(where, 'logs', 'stderr.log')];
      // A model that empties its folder takes its logs with it: the summary does not point at them as if there.
      const gone = logs.filter((path) => !existsSync(path)).length;
      const lost =
        gone === 0
          ? ''
          : ` (${gone === 2 ? 'both' : 'one'} removed during the run, so what was written there is lost)`;
      output.maskedInfo(`  logs      ${logs.join(', ')}${lost}`);
    }
    output.maskedInfo(`  record    ${join(where, RUN_RECORD_PATH)}`);
  }
  for (const post of record.postprocess) {
    const sign =
      post.status === 'succeeded'
        ? style.success('✓')
        : post.status === 'failed'
          ? style.failure('✗')
          : style.dim('-');
    output.maskedInfo(`  ${sign} ${post.type}: ${post.summary}`);
  }
  if (!ok && result.stderrTail.length > 0) {
    output.maskedInfo(style.dim(`  last ${count(result.stderrTail.length, 'line')} of stderr:`));
    // The model's own words, shown again: no escape sequence of its own
    // reaches the terminal here. Masked again once its colours are gone: a
    // colour code inside a secret's value hid it from the first masking.
    for (const line of result.stderrTail) output.info(`  ${style.dim('│')} ${visibleLine(line)}`);
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}
