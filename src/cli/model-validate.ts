import { loadEnsembleInTurns } from '../ensemble/load-ensemble.js';
import { type AnyFileResult, validateAnyFile } from '../load/any-file.js';
import { fileInput, readStdinArgument, sourceOf } from '../load/file-input.js';
import type { FileContext } from '../load/run-inputs.js';
import type { ModelConfig } from '../model/model-config.js';
import { count } from '../plural.js';
import type { Problem } from '../problems.js';
import { summarizeBackend } from './backends-validate.js';
import type { ValidateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printReport, reportExitCode } from './validation-report.js';

/**
 * `modelrun validate`: checks model, pipeline, postprocessor and backend
 * files, with the same formats and exit codes as `backends validate`.
 */
export async function runValidate(
  options: ValidateOptions,
  { output, env, cwd }: Pick<CommandContext, 'output' | 'env' | 'cwd'>,
): Promise<number> {
  const stdin = await readStdinArgument(options.files);
  const layering = await layeringOf(options, { env, cwd });
  const results: AnyFileResult[] = [];
  for (const file of options.files) {
    const input = fileInput(file, cwd, stdin);
    const result = validateAnyFile(input.path, {
      env,
      display: input.display,
      ...sourceOf(input),
      layering,
      ...(options.kind === undefined ? {} : { kind: options.kind }),
    });
    results.push(
      result.kind === 'ensemble' && result.status === 'valid'
        ? await checkMembers(result, file, {
            env,
            cwd,
            ...(stdin === undefined ? {} : { stdin }),
            ...layering,
          })
        : result,
    );
  }
  printReport(results, options.format, output, summarize);
  return reportExitCode(results);
}

/** How many members each valid ensemble file has, for its summary. */
const memberCounts = new WeakMap<AnyFileResult, number>();

/**
 * An ensemble file is valid when every member is: each member's model and
 * backend, with its values set, and its run id.
 */
async function checkMembers(
  result: AnyFileResult & { kind: 'ensemble' },
  file: string,
  ctx: FileContext,
): Promise<AnyFileResult> {
  const load = await loadEnsembleInTurns({ ensembleFile: file, postprocessorConfigs: [] }, ctx);
  // The members' warnings (a value for a key the model does not have), each said once.
  const own = new Set(result.warnings.map((w) => JSON.stringify(w)));
  const warnings = [
    ...result.warnings,
    ...load.warnings.filter((w) => !own.has(JSON.stringify(w))),
  ];
  if ('ensemble' in load) {
    const checked = { ...result, warnings };
    memberCounts.set(checked, load.ensemble.members.length);
    return checked;
  }
  const errors = load.errors.flatMap((error): Problem[] =>
    error.problems.length > 0
      ? // A file's warnings come with its errors; they are said as warnings, above.
        error.problems.filter((problem) => !problem.message.startsWith('warning: '))
      : [
          {
            file: result.file,
            line: 0,
            column: 0,
            path: '',
            message: error.hint === undefined ? error.message : `${error.message}; ${error.hint}`,
          },
        ],
  );
  return { ...result, status: 'invalid', errors, warnings, value: undefined };
}

/** The kind the file was checked as, then what matters most in it. */
function summarize(result: AnyFileResult): string {
  if (result.kind === undefined || result.value === undefined) return '';
  const detail = summaryOf(result);
  return detail === '' ? result.kind : `${result.kind} · ${detail}`;
}

function summaryOf(result: AnyFileResult): string {
  switch (result.kind) {
    case 'model':
      return result.value === undefined ? '' : summarizeModel(result.value);
    case 'pipeline': {
      const pipeline = result.value;
      if (pipeline === undefined) return '';
      // The path as written in the file, not as resolved.
      const written = result.data?.model;
      const model =
        typeof pipeline.model === 'string' ? String(written) : `run ${pipeline.model.run_id}`;
      const backend =
        pipeline.backend === undefined
          ? 'local'
          : typeof pipeline.backend === 'string'
            ? pipeline.backend
            : String(pipeline.backend.type);
      return `model ${model} · backend ${backend}`;
    }
    case 'ensemble': {
      const members = memberCounts.get(result);
      return members === undefined ? '' : count(members, 'member');
    }
    case 'postprocessor':
      return result.value === undefined ? '' : String(result.value.type);
    case 'backend':
      return summarizeBackend(result);
    default:
      return '';
  }
}

function summarizeModel(model: ModelConfig): string {
  const parts = [`run ${model.run_id}`];
  if (model.command !== undefined) parts.push(`command ${model.command}`);
  if (model.period !== undefined)
    parts.push(`period ${model.period.start} → ${model.period.end} every ${model.period.interval}`);
  if (model.postprocess.length > 0)
    parts.push(`postprocess ${model.postprocess.map((p) => p.type).join(', ')}`);
  return parts.join(' · ');
}
