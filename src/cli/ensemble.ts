import {
  defaultParallel,
  memberByName,
  memberRequests,
  selectedMembers,
  withInputs,
} from '../api/ensemble-request.js';
import { findBackend } from '../backends/registry.js';
import { loadEnsembleInTurns } from '../ensemble/load-ensemble.js';
import { UsageError } from '../errors.js';
import { SUPERVISOR_LOG_VARIABLE } from '../handover.js';
import { readStdinArgument } from '../load/file-input.js';
import { placeOf } from '../problems.js';
import { runEnsemble } from '../run/ensemble.js';
import { executeRun } from '../run/execute-run.js';
import type { EnsembleOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { detachEnsemble, refuseWithDetach } from './ensemble-detach.js';
import { printEnsembleDryRun, printEnsembleSummary } from './ensemble-report.js';
import { EnsembleView } from './ensemble-view.js';
import { layeringOf } from './layering-flags.js';
import { presentError } from './present-error.js';
import { cliRunDeps, nowhere } from './run-execute.js';

/** What an interrupt does to an ensemble, for the line printed when one comes. */
const STOPPING_THE_ENSEMBLE = 'stopping every member and cleaning up';

/**
 * `modelrun ensemble`: every member of an ensemble file, run in this
 * process at most max_parallel at once, then its aggregate step. Returns
 * the exit code: 0 when every member (and the aggregate step) succeeded.
 */
export async function runEnsembleCommand(
  options: EnsembleOptions,
  ctx: CommandContext,
): Promise<number> {
  // Before standard input is read: a detached ensemble could not read it.
  if (options.detach) refuseWithDetach(options);
  const stdin = await readStdinArgument(
    options.ensembleFile,
    options.backendConfig,
    options.postprocessorConfigs,
  );
  const maxParallel = parseCount(options.maxParallel);
  const load = await loadEnsembleInTurns(
    {
      ensembleFile: options.ensembleFile,
      ...(options.backendConfig === undefined ? {} : { backendConfig: options.backendConfig }),
      postprocessorConfigs: options.postprocessorConfigs,
    },
    { ...ctx, stdin, ...(await layeringOf(options, ctx)) },
  );
  for (const warning of load.warnings) ctx.output.warn(placeOf(warning));
  if ('errors' in load) {
    let code = 0;
    for (const error of load.errors) code = Math.max(code, presentError(error, ctx.output));
    return code;
  }
  const { ensemble } = load;
  if (options.detach) return detachEnsemble(options, ensemble, ctx);
  const only = selectedMembers(options.only, ensemble);
  const followed =
    options.follow === undefined ? undefined : memberByName(options.follow, ensemble, '--follow');
  if (followed !== undefined && only !== undefined && !only.has(followed))
    throw new UsageError(`--follow ${options.follow}: that member is not one --only runs`, {
      hint: 'follow one of the members --only names',
    });
  if (options.dryRun) {
    const members = memberRequests(ensemble, options.postprocess, ctx.output.redactor);
    const chosen = members.filter((m) => only === undefined || only.has(m.index));
    const first = chosen[0];
    if (first === undefined) return 0;
    const planned = await executeRun(
      { ...first.request(), dryRun: true },
      cliRunDeps(ctx, nowhere(), ctx.session.guardian()),
    );
    const parallel = maxParallel ?? ensemble.maxParallel ?? defaultParallel(ensemble.backendType);
    const batch = findBackend(ensemble.backendType)?.describeBatch?.(
      chosen.length,
      parallel,
      ensemble.dir,
    );
    printEnsembleDryRun(ensemble, chosen, planned, ctx.output, options.json, batch);
    return planned.exitCode;
  }

  const { backendType } = ensemble;
  const parallel = maxParallel ?? ensemble.maxParallel ?? defaultParallel(backendType);
  // A followed member's output shares the terminal: the view then writes lines, not redrawings.
  const sink =
    followed === undefined
      ? ctx.terminal.stderr
      : { write: (text: string) => ctx.terminal.stderr.write(text) };
  const view = new EnsembleView(sink, ctx.output.redactor, parallel);
  // Members' output goes to their logs only: many members on one terminal would be noise.
  const silent = nowhere();
  const followedRunId = followed === undefined ? undefined : ensemble.members[followed]?.runId;
  const done = ctx.session.begin(STOPPING_THE_ENSEMBLE);
  // The ensemble's own lease on the guardian, for its lock, its record and the aggregate step.
  const ensembleGuardian = ctx.session.guardian(true);
  try {
    const result = await runEnsemble(
      {
        id: ensemble.id,
        dir: ensemble.dir,
        file: ensemble.file,
        fileDir: ensemble.fileDir,
        backendType,
        maxParallel: parallel,
        failFast: ensemble.failFast,
        // The ensemble's folder before the file's: it is often inside it.
        members: await withInputs(
          memberRequests(ensemble, options.postprocess, ctx.output.redactor),
          ctx.output.redactor,
          [ensemble.dir, ensemble.fileDir],
        ),
        aggregate: ensemble.aggregate,
        overrides: ensemble.overrides,
        resume: options.resume,
        ...(ctx.env[SUPERVISOR_LOG_VARIABLE] === undefined
          ? {}
          : { log: ctx.env[SUPERVISOR_LOG_VARIABLE] }),
        ...(only === undefined ? {} : { only }),
      },
      {
        env: ctx.env,
        signal: ctx.session.signal,
        status: (line) => view.line(line),
        redactor: ctx.output.redactor,
        guard: ensembleGuardian.guard,
        // The aggregate step's output is shown; under --json, stdout carries only the record.
        terminal: options.json
          ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr }
          : ctx.terminal,
        openBatch: findBackend(backendType)?.openBatch,
        runMember: (request, { signal, batch, launcher, observe }) =>
          executeRun(request, {
            ...cliRunDeps(
              ctx,
              request.model.run_id !== followedRunId
                ? silent
                : options.json
                  ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr }
                  : ctx.terminal,
            ),
            signal,
            ...(batch === undefined ? {} : { batch }),
            ...(launcher === undefined ? {} : { launcher }),
            observe,
            // A member's own progress is in its run.json; its warnings are said, with its name.
            status: (line) => {
              if (line.startsWith('warning: '))
                view.line(`warning: ${request.model.run_id}: ${line.slice(9)}`);
            },
          }),
        onMember: (entry, progress) => view.member(entry, progress),
      },
    );
    view.finish();
    printEnsembleSummary(result, ctx, options.json, only);
    return result.exitCode;
  } finally {
    view.finish();
    ensembleGuardian.close();
    done();
  }
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10_000)
    throw new UsageError(`--max-parallel ${text}: must be a whole number from 1 to 10000`, {
      hint: 'such as --max-parallel 4',
    });
  return Number(text);
}
