import { resolve } from 'node:path';
import { validateModelFile } from '../load/model-file.js';
import type { ValidationResult } from '../load/validate.js';
import type { ModelConfig } from '../model/model-config.js';
import type { Output } from './output.js';
import { printReport, type ReportFormat, reportExitCode } from './validation-report.js';

export interface ModelValidateOptions {
  files: string[];
  format: ReportFormat;
  env: NodeJS.ProcessEnv;
  /** Relative file names are read from here. */
  cwd: string;
}

/** `modelrun validate`: checks model files, with the same formats and exit codes as `backends validate`. */
export async function runModelValidate(
  options: ModelValidateOptions,
  output: Output,
): Promise<number> {
  const results = options.files.map((file) =>
    validateModelFile(resolve(options.cwd, file), options.env, file),
  );
  printReport(results, options.format, output, summarize);
  return reportExitCode(results);
}

function summarize(result: ValidationResult): string {
  const model = result.value as ModelConfig | undefined;
  if (model === undefined) return '';
  const parts = [`run ${model.run_id}`];
  if (model.command !== undefined) parts.push(`command ${model.command}`);
  if (model.period !== undefined)
    parts.push(`period ${model.period.start} → ${model.period.end} every ${model.period.interval}`);
  if (model.postprocess.length > 0)
    parts.push(`postprocess ${model.postprocess.map((p) => p.type).join(', ')}`);
  return parts.join(' · ');
}
