import { formatDuration } from '../config/fields.js';
import type { ValidationResult } from '../load/validate.js';
import { count } from '../plural.js';
import { type Problem, placeOf } from '../problems.js';
import type { ReportFormat } from './command-options.js';
import type { Output } from './output.js';

/** Prints validation results in the chosen format; shared by every `validate` command. */
export function printReport<Result extends ValidationResult>(
  results: Result[],
  format: ReportFormat,
  output: Output,
  summarize: (result: Result) => string,
): void {
  if (format === 'json') output.raw(`${JSON.stringify(results.map(toJson), null, 2)}\n`);
  else if (format === 'github') printGithub(results, output);
  else printText(results, output, summarize);
}

/** 0 when every file is valid, 2 when a file is missing (a usage error), else 1. */
export function reportExitCode(results: ValidationResult[]): number {
  if (results.some((r) => r.status === 'missing')) return 2;
  return results.some((r) => r.status === 'invalid') ? 1 : 0;
}

function toJson(result: ValidationResult) {
  // A problem in another file (a base, the site config) or in a --set names where it is.
  const strip = ({ file, line, column, path, message }: Problem) => ({
    ...(file === result.file ? {} : { file }),
    line,
    column,
    path,
    message,
  });
  const type = result.data?.type;
  return {
    file: result.file,
    valid: result.status === 'valid',
    type: typeof type === 'string' ? type : null,
    errors: result.errors.map(strip),
    warnings: result.warnings.map(strip),
  };
}

function printText<Result extends ValidationResult>(
  results: Result[],
  output: Output,
  summarize: (r: Result) => string,
): void {
  const { style } = output;
  for (const result of results) {
    if (result.status === 'valid') {
      const summary = summarize(result);
      output.result(
        `${style.success('✓')} ${result.file}${summary === '' ? '' : `  ${style.dim(summary)}`}`,
      );
    } else {
      output.result(
        `${style.failure('✗')} ${result.file}  ${style.dim(count(result.errors.length, 'error'))}`,
      );
    }
    for (const problem of result.errors)
      output.result(`    ${describe(problem, style.failure('error'))}`);
    for (const problem of result.warnings)
      output.result(`    ${describe(problem, style.warning('warning'))}`);
  }
  const valid = results.filter((r) => r.status === 'valid').length;
  const invalid = results.length - valid;
  const tally = `${count(results.length, 'file')}: ${valid} valid, ${invalid} invalid`;
  output.result(invalid === 0 ? style.success(tally) : style.failure(tally));
}

function describe(problem: Problem, label: string): string {
  return `${label} ${placeOf(problem)}`;
}

function printGithub(results: ValidationResult[], output: Output): void {
  for (const result of results) {
    for (const problem of result.errors) output.result(annotation('error', problem));
    for (const problem of result.warnings) output.result(annotation('warning', problem));
  }
  const invalid = results.filter((r) => r.status !== 'valid').length;
  output.result(`${count(results.length, 'file')} checked, ${invalid} invalid`);
}

/** A GitHub Actions workflow command; see "Workflow commands for GitHub Actions". */
function annotation(level: 'error' | 'warning', problem: Problem): string {
  const property = (text: string) => escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
  const title = problem.path === '' ? 'modelrun' : `modelrun: ${problem.path}`;
  // A command-line argument has no file to annotate: the message names it.
  if (problem.line === 0)
    return `::${level} title=${property(title)}::${escapeData(`${problem.file}: ${problem.message}`)}`;
  const props = `file=${property(problem.file)},line=${problem.line},col=${problem.column},title=${property(title)}`;
  return `::${level} ${props}::${escapeData(problem.message)}`;
}

function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** "docker · image ubuntu:22.04 · cpu 4 · timeout 1h" from the fields a backend names. */
export function summarizeFields(
  type: string,
  value: Record<string, unknown>,
  fields: readonly string[],
): string {
  const parts = [type];
  for (const field of fields) {
    const v = value[field];
    if (v === undefined || v === false) continue;
    parts.push(
      `${field} ${field.endsWith('timeout') && typeof v === 'number' ? formatDuration(v) : formatValue(v)}`,
    );
  }
  return parts.join(' · ');
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(',');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
