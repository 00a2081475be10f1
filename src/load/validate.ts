import type * as z from 'zod';
import type { ConfigWarning } from '../backends/contract.js';
import { count } from '../plural.js';
import { formatPath, type PathSegment, type Problem } from '../problems.js';
import { isRecord } from '../records.js';
import { convertInterpolated } from './convert-interpolated.js';
import { interpolateDocument } from './interpolate.js';
import { type ParseResult, type PositionedDocument, parseYaml, toPlainData } from './parse-yaml.js';
import { locate } from './positions.js';
import { readSource, type SourceResult } from './read-source.js';
import { friendlyMessages } from './zod-messages.js';

export type ValidationStatus = 'valid' | 'invalid' | 'missing';

/** The outcome of checking one file. Validation reports; it never throws for a bad file. */
export interface ValidationResult<T = unknown> {
  file: string;
  status: ValidationStatus;
  value: T | undefined;
  /** The file's data after interpolation, before validation; undefined when it could not be read. */
  data: Record<string, unknown> | undefined;
  errors: Problem[];
  warnings: Problem[];
  /**
   * Places a message at a data path of this file, for a check that needs
   * another file as well (a run's model and backend); undefined when the
   * file could not be parsed.
   */
  place?: (path: PathSegment[], message: string) => Problem;
}

export interface ValidateOptions {
  env: NodeJS.ProcessEnv;
  /** The file's name as the user wrote it, for messages; the path read may be absolute. */
  display?: string;
  /** The file's text already read (standard input); `file` then only places its relative paths. */
  source?: SourceResult;
  /** Fills a missing discriminator and checks a present one against it. */
  expected?: { key: string; value: string; source: string };
  warnings?: (
    value: Record<string, unknown>,
    info: { interpolated: (path: PathSegment[]) => boolean },
  ) => ConfigWarning[];
}

/**
 * The schema to check a file against, or a function that picks it from the
 * file's data (after interpolation), for a schema built only for the types
 * the data names (load/schema-cache.ts schemaPerFolderAndKind).
 */
export type SchemaChoice<T> = z.ZodType<T> | ((data: Record<string, unknown>) => z.ZodType<T>);

/** Each round converts what the last check showed; more than a few means nothing more will change. */
const MAX_CONVERSION_ROUNDS = 4;

/** Unknown keys reported one by one per mapping; the rest are counted, so a file of junk keys stays quick and readable. */
export const MAX_UNKNOWN_KEYS = 20;

interface RawProblem {
  path: PathSegment[];
  message: string;
  at?: 'key' | 'value';
  offset?: number;
  /** Zod's own bound for whole numbers, which only repeats a field's tighter bound when it has one. */
  safeIntegerBound?: boolean;
}

/** Reads, parses, interpolates and validates one file against `schema`. */
export function validateFile<T>(
  file: string,
  schema: SchemaChoice<T>,
  options: ValidateOptions,
): ValidationResult<T> {
  const shown = options.display ?? file;
  const read = readForValidation(file, shown, options.source);
  return read.ok ? validateText(shown, read.text, schema, options) : read.failed;
}

/** A file's text, or the result that says why it cannot be validated (missing, unreadable). */
export function readForValidation(
  file: string,
  shown: string,
  source?: SourceResult,
): { ok: true; text: string } | { ok: false; failed: ValidationResult<never> } {
  const failed = (status: ValidationStatus, message: string, line = 1, column = 1) => ({
    ok: false as const,
    failed: {
      file: shown,
      status,
      value: undefined,
      data: undefined,
      errors: [{ file: shown, line, column, path: '', message: message.replaceAll(file, shown) }],
      warnings: [],
    },
  });
  // An empty argument resolves to the current folder, which would be reported as "is a directory".
  if (shown === '')
    return failed('missing', 'the path is empty; give the path of a YAML or JSON config file');
  if (source === undefined) return readForValidation(file, shown, readSource(file));
  if (!source.ok)
    return failed(
      source.reason === 'missing' ? 'missing' : 'invalid',
      source.message,
      source.line,
      source.column,
    );
  return { ok: true, text: source.text };
}

export function validateText<T>(
  file: string,
  text: string,
  schema: SchemaChoice<T>,
  options: ValidateOptions,
): ValidationResult<T> {
  return validateParsed(file, parseYaml(text), schema, options);
}

/** validateText for text already parsed, by a caller that had to look into it first. */
export function validateParsed<T>(
  file: string,
  parsed: ParseResult,
  choice: SchemaChoice<T>,
  options: ValidateOptions,
): ValidationResult<T> {
  if (!parsed.ok) {
    const errors = parsed.failures.map((f) => ({
      file,
      line: f.line,
      column: f.column,
      path: '',
      message: f.message,
    }));
    return { file, status: 'invalid', value: undefined, data: undefined, errors, warnings: [] };
  }
  const doc = parsed.parsed;
  const place = (raw: RawProblem): Problem => {
    const position =
      raw.offset === undefined ? locate(doc, raw.path, raw.at) : lineCol(doc, raw.offset);
    return { file, ...position, path: formatPath(raw.path), message: raw.message };
  };

  const { problems, interpolated } = interpolateDocument(doc, options.env);
  const raw: RawProblem[] = problems.map((p) => ({
    path: p.path,
    message: p.message,
    offset: p.offset,
  }));
  const plain = toPlainData(doc);
  if (!plain.ok) {
    raw.push({ path: [], message: plain.message });
    return {
      file,
      status: 'invalid',
      value: undefined,
      data: undefined,
      errors: raw.map(place),
      warnings: [],
    };
  }
  const data = plain.data;
  const expected = options.expected;
  if (expected !== undefined) {
    if (data[expected.key] === undefined) data[expected.key] = expected.value;
    else if (data[expected.key] !== expected.value) {
      raw.push({
        path: [expected.key],
        message: `${expected.key} is ${JSON.stringify(data[expected.key])} but ${expected.source} is "${expected.value}"`,
      });
    }
  }

  const schema = typeof choice === 'function' ? choice(data) : choice;
  let result = schema.safeParse(data, { error: friendlyMessages });
  // Values from the environment are text; where the schema wanted a number
  // or a boolean, read them as one and check again. A conversion can let a
  // union's branch be checked further, so this may take more than one round.
  for (let round = 0; round < MAX_CONVERSION_ROUNDS && !result.success; round++) {
    if (convertInterpolated(data, result.error.issues, interpolated) === 0) break;
    result = schema.safeParse(data, { error: friendlyMessages });
  }
  if (!result.success) {
    // A value whose interpolation failed is already reported; its schema error would only repeat it.
    const failed = new Set(problems.map((p) => JSON.stringify(p.path)));
    raw.push(
      ...capUnknownKeys(dropRepeatedBounds(result.error.issues.flatMap(issueProblems)))
        .filter((p) => !failed.has(JSON.stringify(p.path)))
        .map((p) => fromEnvironment(p, interpolated)),
    );
  }
  const errors = raw.map(place);
  const isInterpolated = (path: PathSegment[]) => interpolated.has(JSON.stringify(path));
  // A file with errors still shows its warnings (a secret written into it
  // is worth knowing about while fixing the rest), checked on its values as
  // written, since there is no validated value.
  const checked = result.success && isRecord(result.data) ? result.data : data;
  const warnings =
    options.warnings === undefined
      ? []
      : options
          .warnings(checked, { interpolated: isInterpolated })
          .map((w) => place({ path: w.path, message: w.message }));
  return {
    file,
    status: errors.length === 0 ? 'valid' : 'invalid',
    value: errors.length === 0 && result.success ? result.data : undefined,
    data,
    errors: sortByPosition(errors),
    warnings,
    place: (path, message) => place({ path, message }),
  };
}

function lineCol(doc: PositionedDocument, offset: number) {
  const { line, col } = doc.lineCounter.linePos(offset);
  return { line, column: col };
}

function issueProblems(issue: z.core.$ZodIssue): RawProblem[] {
  const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const lines = issue.message.split('\n');
    return issue.keys.map((key, i) => ({
      path: [...path, key],
      at: 'key' as const,
      message: lines.length === issue.keys.length ? (lines[i] ?? '') : `unknown key "${key}"`,
    }));
  }
  if (
    issue.code === 'invalid_union' &&
    issue.errors.length > 0 &&
    issue.message === 'Invalid input'
  ) {
    // A value that may be one of several shapes (a path or an inline mapping),
    // in a union without a message of its own: report the problems of the
    // shape the value was written in, not a bare "Invalid input".
    const fitting = issue.errors.filter(
      (branch) =>
        !(branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0),
    );
    if (fitting.length === 1) {
      return (fitting[0] ?? []).flatMap((inner) =>
        issueProblems({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue),
      );
    }
  }
  if (issue.code === 'invalid_key') {
    return [{ path, at: 'key', message: issue.issues[0]?.message ?? issue.message }];
  }
  const bound =
    issue.code === 'too_big' ? issue.maximum : issue.code === 'too_small' ? issue.minimum : 0;
  return Math.abs(Number(bound)) === Number.MAX_SAFE_INTEGER
    ? [{ path, message: issue.message, safeIntegerBound: true }]
    : [{ path, message: issue.message }];
}

/** Drops zod's safe-integer bound where the same value has another error. */
function dropRepeatedBounds(problems: RawProblem[]): RawProblem[] {
  const other = new Set(
    problems.filter((p) => p.safeIntegerBound !== true).map((p) => JSON.stringify(p.path)),
  );
  return problems.filter((p) => p.safeIntegerBound !== true || !other.has(JSON.stringify(p.path)));
}

/** Says which `${...}` a wrong value came from, since the file does not show the value itself. */
function fromEnvironment(
  problem: RawProblem,
  interpolated: ReadonlyMap<string, string>,
): RawProblem {
  const written = interpolated.get(JSON.stringify(problem.path));
  return written === undefined || problem.at === 'key'
    ? problem
    : { ...problem, message: `${problem.message} (from ${written})` };
}

/** Keeps the first MAX_UNKNOWN_KEYS unknown keys of each mapping and sums up the rest at the next one. */
function capUnknownKeys(problems: RawProblem[]): RawProblem[] {
  const counts = new Map<string, number>();
  const extra = new Map<string, RawProblem>();
  const kept: RawProblem[] = [];
  for (const problem of problems) {
    if (problem.at !== 'key' || !problem.message.startsWith('unknown key')) {
      kept.push(problem);
      continue;
    }
    const parent = JSON.stringify(problem.path.slice(0, -1));
    const count = (counts.get(parent) ?? 0) + 1;
    counts.set(parent, count);
    if (count <= MAX_UNKNOWN_KEYS) kept.push(problem);
    else if (count === MAX_UNKNOWN_KEYS + 1) {
      const summary = { ...problem };
      extra.set(parent, summary);
      kept.push(summary);
    }
  }
  for (const [parent, summary] of extra) {
    const more = (counts.get(parent) ?? 0) - MAX_UNKNOWN_KEYS;
    summary.message = `${count(more, 'more unknown key')} from here on, not listed one by one`;
  }
  return kept;
}

function sortByPosition(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
