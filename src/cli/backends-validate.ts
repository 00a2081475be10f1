import { findBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { validateBackendFile } from '../load/backend-config.js';
import { fileInput, readStdinArgument, sourceOf } from '../load/file-input.js';
import type { ValidationResult } from '../load/validate.js';
import { count } from '../plural.js';
import { isRecord } from '../records.js';
import type { BackendsValidateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import { printReport, reportExitCode, summarizeFields } from './validation-report.js';

/** Validates backend config files; returns the exit code. */
export async function runBackendsValidate(
  options: BackendsValidateOptions,
  { output, env, cwd }: Pick<CommandContext, 'output' | 'env' | 'cwd'>,
): Promise<number> {
  const started = performance.now();
  const stdin = await readStdinArgument(options.files);
  const layering = await layeringOf(options, { env, cwd });
  const ofModel = layering.overrides?.find((override) => override.target === 'model');
  if (ofModel !== undefined)
    throw new UsageError(
      `${ofModel.arg} sets a value of a model, and backend configs are checked here`,
      {
        hint: 'name a backend field with the backend. prefix, such as --set backend.memory=4g',
      },
    );
  const results = options.files.map((file) => {
    const input = fileInput(file, cwd, stdin);
    return validateBackendFile(input.path, {
      display: input.display,
      ...sourceOf(input),
      env,
      layering,
      ...(options.backendType === undefined ? {} : { backendType: options.backendType }),
    });
  });
  output.debug(
    `validated ${count(results.length, 'file')} in ${(performance.now() - started).toFixed(1)} ms`,
  );
  printReport(results, options.format, output, summarizeBackend);
  return reportExitCode(results);
}

/** "docker · image … · cpu 4": the fields each backend names as its summary. */
export function summarizeBackend(result: ValidationResult): string {
  const value = isRecord(result.value) ? result.value : undefined;
  const type = String(value?.type ?? '');
  const backend = findBackend(type);
  return value === undefined || backend === undefined
    ? ''
    : summarizeFields(type, value, backend.summaryFields);
}
