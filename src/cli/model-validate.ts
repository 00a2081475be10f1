import { type AnyFileResult, validateAnyFile } from '../load/any-file.js';
import { fileInput, requireOneStdin, sourceOf } from '../load/file-input.js';
import type { FileKind } from '../load/file-kind.js';
import type { PipelineConfig } from '../load/pipeline-file.js';
import type { ValidationResult } from '../load/validate.js';
import type { ModelConfig } from '../model/model-config.js';
import { summarizeBackend } from './backends-validate.js';
import type { ValidateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { printReport, reportExitCode } from './validation-report.js';

/**
 * `modelrun validate`: checks model, pipeline, postprocessor and backend
 * files, with the same formats and exit codes as `backends validate`.
 */
export async function runValidate(
  options: ValidateOptions,
  { output, env, cwd }: Pick<CommandContext, 'output' | 'env' | 'cwd'>,
): Promise<number> {
  requireOneStdin(options.files);
  const results = options.files.map((file) => {
    const input = fileInput(file, cwd);
    return validateAnyFile(input.path, {
      env,
      display: input.display,
      ...sourceOf(input),
      ...(options.kind === undefined ? {} : { kind: options.kind }),
    });
  });
  printReport(results, options.format, output, (result) => summarize(result as AnyFileResult));
  return reportExitCode(results);
}

/** The kind the file was checked as, then what matters most in it. */
function summarize(result: AnyFileResult): string {
  if (result.kind === undefined || result.value === undefined) return '';
  const detail = SUMMARIES[result.kind](result);
  return detail === '' ? result.kind : `${result.kind} · ${detail}`;
}

const SUMMARIES: Record<FileKind, (result: ValidationResult) => string> = {
  model: (result) => summarizeModel(result.value as ModelConfig),
  pipeline: (result) => {
    const pipeline = result.value as PipelineConfig;
    // The path as written in the file, not as resolved.
    const written = result.data?.model;
    const model =
      typeof written === 'string' ? written : `run ${(pipeline.model as ModelConfig).run_id}`;
    const backend =
      pipeline.backend === undefined
        ? 'local'
        : typeof pipeline.backend === 'string'
          ? pipeline.backend
          : String(pipeline.backend.type);
    return `model ${model} · backend ${backend}`;
  },
  postprocessor: (result) => String((result.value as { type: string }).type),
  backend: summarizeBackend,
};

function summarizeModel(model: ModelConfig): string {
  const parts = [`run ${model.run_id}`];
  if (model.command !== undefined) parts.push(`command ${model.command}`);
  if (model.period !== undefined)
    parts.push(`period ${model.period.start} → ${model.period.end} every ${model.period.interval}`);
  if (model.postprocess.length > 0)
    parts.push(`postprocess ${model.postprocess.map((p) => p.type).join(', ')}`);
  return parts.join(' · ');
}
