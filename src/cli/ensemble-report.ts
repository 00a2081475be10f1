import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedEnsemble } from '../ensemble/load-ensemble.js';
import { visibleName, withoutControls } from '../exec/visible-name.js';
import { ENSEMBLE_RECORD, totalsOf } from '../model/ensemble-record.js';
import { RUN_RECORD_PATH } from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import type { EnsembleMemberRequest, EnsembleResult } from '../run/ensemble.js';
import type { PipelineResult } from '../run/pipeline.js';
import { maskSecretKeys } from '../secrets.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';
import { printDryRun } from './run-report.js';

/** What --dry-run prints: the members chosen, then what would run for the first of them. */
export function printEnsembleDryRun(
  ensemble: LoadedEnsemble,
  chosen: readonly Omit<EnsembleMemberRequest, 'inputs'>[],
  first: PipelineResult,
  output: Output,
  json: boolean,
  /** How the engine takes them as one batch, when it does (a Slurm array). */
  batch?: string,
): void {
  const [head] = chosen;
  if (head === undefined) return;
  const list = chosen.map((m) => ({
    index: m.index,
    run_id: m.runId,
    parameters: maskSecretKeys(m.values),
  }));
  const stagingDir = stagingDirOf(head.request().model);
  if (json) {
    output.maskedRaw(
      `${JSON.stringify(
        {
          dry_run: true,
          ensemble_id: ensemble.id,
          dir: ensemble.dir,
          members: list,
          ...(batch === undefined ? {} : { batch }),
          first: { staging_dir: stagingDir, ...first.dryRun?.data },
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  output.result(
    output.style.bold(
      `ensemble ${ensemble.id}: ${chosen.length} of ${ensemble.members.length} members, in ${ensemble.dir}`,
    ),
  );
  for (const m of list)
    output.maskedResult(
      `  ${String(m.index).padStart(4)}  ${m.run_id}  ${valuesText(m.parameters)}`,
    );
  output.result('');
  if (batch !== undefined) output.result(`on ${ensemble.backendType}: ${batch}`);
  output.result(`the first, ${head.runId}:`);
  if (first.dryRun !== undefined) printDryRun(first.dryRun, stagingDir, output, false);
}

function valuesText(values: Record<string, unknown>): string {
  const pairs = Object.entries(values).map(([path, value]) => `${path}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? '(the model as it is)' : pairs.join(' ');
}

/**
 * The end of an ensemble: its outcome and counts, each failed member and
 * where its logs are, under `dir` (by default the folder the record names).
 */
export function printEnsembleSummary(
  result: EnsembleResult,
  ctx: CommandContext,
  json: boolean,
  only?: ReadonlySet<number>,
  dir = result.record.dir,
): void {
  const { record } = result;
  if (json) {
    ctx.output.maskedRaw(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  const style = ctx.output.stderrStyle;
  const ok = record.status === 'succeeded';
  const mark = ok ? style.success('✓') : style.failure('✗');
  // Under --only, the members it ran; the others keep what an earlier run left.
  const members = record.members.filter((m) => only === undefined || only.has(m.index));
  const t = totalsOf(members);
  const counts = [
    `${t.succeeded} succeeded`,
    ...(t.failed > 0 ? [`${t.failed} failed`] : []),
    ...(t.cancelled > 0 ? [`${t.cancelled} cancelled`] : []),
    ...(t.skipped > 0 ? [`${t.skipped} skipped`] : []),
    ...(t.pending > 0 ? [`${t.pending} not run`] : []),
  ].join(', ');
  const of =
    only === undefined
      ? `${t.members} members`
      : `${t.members} members run (--only; ${record.members.length} in all)`;
  ctx.output.maskedInfo(
    `${mark} ensemble ${style.bold(visibleName(record.ensemble_id))} ${record.status}: ${counts} of ${of} (${record.duration_s ?? 0} s)`,
  );
  for (const member of members.filter((m) => m.status === 'failed')) {
    // A member refused before it was staged has no run, and so no logs, to point at.
    const runDir = join(dir, member.run_id);
    const staged = existsSync(join(runDir, RUN_RECORD_PATH));
    ctx.output.maskedInfo(
      withoutControls(
        `  failed   ${member.run_id}${member.exit_code === null ? '' : ` (exit ${member.exit_code})`}${member.reason === undefined ? '' : `: ${member.reason}`}${staged ? `; logs: modelrun logs ${runDir}` : ''}`,
      ),
    );
  }
  const skipped = members.filter((m) => m.status === 'skipped');
  if (skipped.length > 0)
    ctx.output.maskedInfo(
      `  skipped  ${skipped.length} that succeeded before with the same inputs (--resume)`,
    );
  for (const post of record.aggregate)
    ctx.output.maskedInfo(
      withoutControls(`  aggregate ${post.type}: ${post.status}: ${post.summary}`),
    );
  ctx.output.maskedInfo(`  record   ${join(dir, ENSEMBLE_RECORD)}`);
}
