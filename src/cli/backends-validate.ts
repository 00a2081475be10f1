import { findBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { validateBackendFile } from '../load/backend-config.js';
import { fileInput, readStdinArgument, sourceOf } from '../load/file-input.js';
import type { ValidationResult } from '../load/validate.js';
import { count } from '../plural.js';
import { formatPath, type PathSegment } from '../problems.js';
import { isRecord } from '../records.js';
import { maskSecretKeys } from '../secrets.js';
import type { BackendsValidateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { layeringOf } from './layering-flags.js';
import type { Output } from './output.js';
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
  if (options.explain) for (const result of results) explain(result, output);
  return reportExitCode(results);
}

/**
 * --explain: each value of a file as its layers merged it, with where it
 * was set: the file, a base it extends, the site config, or a --set. Values
 * under secret-named keys are masked. A list is one value, as a layer
 * replaces it whole.
 */
function explain(result: ValidationResult, output: Pick<Output, 'result'>): void {
  const { data, origin } = result;
  if (data === undefined || origin === undefined) return;
  const rows: [string, string, string][] = [];
  const walk = (value: unknown, path: PathSegment[]) => {
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
      return;
    }
    const from = origin(path);
    const where = from.line === 0 ? from.file : `${from.file}:${from.line}`;
    rows.push([formatPath(path), JSON.stringify(value), where]);
  };
  walk(maskSecretKeys(data), []);
  const width = (i: 0 | 1) => Math.max(...rows.map((row) => row[i].length));
  output.result(`${result.file}, value by value, and where each was set:`);
  for (const [path, value, where] of rows)
    output.result(`  ${path.padEnd(width(0))}  ${value.padEnd(width(1))}  ${where}`);
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
