import type * as z from 'zod';
import type { ConfigWarning } from '../backends/contract.js';
import { rebaseFields } from '../config/path-fields.js';
import { count } from '../plural.js';
import { formatPath, type PathSegment, type Problem } from '../problems.js';
import { isRecord, valueAt } from '../records.js';
import { convertInterpolated } from './convert-interpolated.js';
import { interpolateValue } from './interpolate.js';
import { extendedLayers, fileLayer, type Layer, placeInLayer, sectionLayers } from './layers.js';
import { type Merged, mergeLayers } from './merge.js';
import type { Override } from './override-arg.js';
import { type ParseResult, parseYaml } from './parse-yaml.js';
import type { Reading } from './read-once.js';
import { readSource, type SourceResult } from './read-source.js';
import { friendlyMessages } from './zod-messages.js';

export type ValidationStatus = 'valid' | 'invalid' | 'missing';

type OverrideList = readonly Pick<Override, 'arg' | 'path' | 'value' | 'writtenAt'>[];

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
  /** The layers the value was merged from, in order: bases, the file, overrides; undefined when it could not be parsed. */
  layers?: string[];
  /** Where the value at a path was written (the message is empty): for `--explain`. */
  origin?: (path: PathSegment[]) => Problem;
}

export interface ValidateOptions extends Reading {
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
  /** The file's path, where `extends:` entries start from; default: the file as given. */
  path?: string;
  /** Whether the file may name bases with `extends:` (model, backend and pipeline files). */
  extendable?: boolean;
  /** Mappings in the file that may name bases of their own: a pipeline's `model:` and `backend:`. */
  sections?: PathSegment[][];
  /** Layers under the file and its bases, given their merged data: the site config's defaults for its type. */
  below?: (data: Record<string, unknown>) => Layer[];
  /** Values from the command line, set over every layer, each a layer of its own. */
  overrides?: OverrideList | ((data: Record<string, unknown>) => OverrideList);
  /**
   * For an override of a free-form mapping (a model's `config:`), a warning
   * when it sets a key that is not there, since a typo would do nothing.
   */
  freeFormKey?: (data: Record<string, unknown>, path: PathSegment[]) => string | undefined;
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
  const once = options.source === undefined ? options.readOnce?.file(file) : undefined;
  const read = readForValidation(file, shown, options.source ?? once?.source);
  if (!read.ok) return read.failed;
  return validateParsed(shown, once?.parsed ?? parseYaml(read.text), schema, options);
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
  const invalid = (errors: Problem[]): ValidationResult<T> => ({
    file,
    status: 'invalid',
    value: undefined,
    data: undefined,
    errors: sortByPosition(errors),
    warnings: [],
  });
  const read = fileLayer(file, options.path ?? file, parsed, options.env);
  if (read.layer === undefined) return invalid(read.problems);
  const top = read.layer;
  const placed: Problem[] = [...read.problems];
  const layered = layersOf(top, options, placed);
  const { layers, merged } = layered;
  const data = merged.data;
  const own = <V>(entries: (layer: Layer) => Iterable<[string, V]>) =>
    ownedByLayer(layers, merged, entries);
  const interpolated = new Map(own((layer) => layer.interpolated));
  const failed = new Set(
    own((layer) => [...(layer.failed ?? [])].map((key) => [key, true] as [string, boolean])).keys(),
  );

  // A problem goes to the layer that wrote the value: the file, a base, the site config or a --set.
  const writerOf = (path: readonly PathSegment[]): Layer =>
    layers[merged.layerOf(path) ?? -1] ?? top;
  const where = (path: readonly PathSegment[], message: string, at?: 'key' | 'value') => {
    const layer = writerOf(path);
    return { layer, problem: placeInLayer(layer, path.slice(layer.at?.length ?? 0), message, at) };
  };
  const place = (raw: RawProblem): Problem => {
    const { layer, problem } = where(raw.path, raw.message, raw.at);
    return {
      ...problem,
      path: formatPath(raw.path),
      message: problem.message + alsoWrittenIn(raw, layers, merged, layer),
    };
  };

  const raw: RawProblem[] = [];
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
  // Relative paths written in a layer of another folder (a base, the site
  // config) resolve against that layer's folder, as in a file of its own:
  // made absolute before the check, which resolves the rest against the file's.
  if (layered.rebased)
    rebaseFields(schema, data, (path) => {
      const { dir } = writerOf(path);
      return dir === top.dir ? undefined : dir;
    });
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
    raw.push(
      ...capUnknownKeys(dropRepeatedBounds(result.error.issues.flatMap(issueProblems)))
        .filter((p) => !failed.has(JSON.stringify(p.path)))
        .map((p) => fromEnvironment(p, interpolated)),
    );
  }
  const errors = [...placed, ...raw.map(place)];
  const isInterpolated = (path: PathSegment[]) => interpolated.has(JSON.stringify(path));
  // A file with errors still shows its warnings (a secret written into it
  // is worth knowing about while fixing the rest), checked on its values as
  // written, since there is no validated value.
  const checked = result.success && isRecord(result.data) ? result.data : data;
  const warnings = [
    ...layered.warnings,
    ...(options.warnings === undefined
      ? []
      : options
          .warnings(checked, { interpolated: isInterpolated })
          .map((w) => place({ path: w.path, message: w.message }))),
  ];
  return {
    file,
    status: errors.length === 0 ? 'valid' : 'invalid',
    value: errors.length === 0 && result.success ? result.data : undefined,
    data,
    errors: sortByPosition(errors),
    warnings,
    place: (path, message) => place({ path, message }),
    layers: layers.map((layer) => layer.name),
    origin: (path) => where(path, '').problem,
  };
}

/**
 * The file's layers, merged: its site defaults, the bases it extends, the
 * file, and the overrides from the command line, with the problems and
 * warnings found on the way.
 */
function layersOf(
  top: Layer,
  options: ValidateOptions,
  placed: Problem[],
): { layers: Layer[]; merged: Merged; warnings: Problem[]; rebased: boolean } {
  const { env } = options;
  let layers =
    options.extendable === true
      ? extendedLayers(top, options.path ?? top.name, env, placed, options.readOnce)
      : [top];
  if (options.sections !== undefined)
    layers = sectionLayers(layers, options.sections, env, placed, options.readOnce);
  const listed = (data: Record<string, unknown>) =>
    (typeof options.overrides === 'function' ? options.overrides(data) : options.overrides) ?? [];
  if (options.below !== undefined) {
    // The site's defaults are those of the type the config ends with, a --set of it included.
    const probe = mergeLayers(layers);
    for (const override of listed(probe.data))
      if (override.path[override.path.length - 1] === 'type')
        probe.set(override.path, override.value, 0);
    layers = [...options.below(probe.data), ...layers];
  }
  const merged = mergeLayers(layers);
  const warnings: Problem[] = [];
  for (const override of listed(merged.data)) {
    // `${NAME}` in a --set value is filled from the environment, as in a file: a secret stays off the command line.
    const filled =
      override.writtenAt === undefined
        ? interpolateValue(override.value, override.path, env)
        : { value: override.value, interpolated: new Map<string, string>(), problems: [] };
    const layer: Layer = {
      name: override.arg,
      dir: top.dir,
      data: {},
      interpolated: filled.interpolated,
      failed: new Set(filled.problems.map((p) => JSON.stringify(p.path))),
      ...(override.writtenAt === undefined ? {} : { writtenAt: override.writtenAt }),
    };
    layers.push(layer);
    for (const problem of filled.problems)
      placed.push(placeInLayer(layer, problem.path, problem.message));
    const unknown = options.freeFormKey?.(merged.data, override.path);
    if (unknown !== undefined) warnings.push(placeInLayer(layer, override.path, unknown));
    const why = merged.set(override.path, filled.value, layers.length - 1);
    if (why !== undefined) placed.push(placeInLayer(layer, override.path, why));
  }
  return { layers, merged, warnings, rebased: layers.some((layer) => layer.dir !== top.dir) };
}

/** The entries of each layer's map that the layer still owns in the merged value, keyed by merged path. */
function ownedByLayer<V>(
  layers: readonly Layer[],
  merged: Merged,
  entries: (layer: Layer) => Iterable<[string, V]>,
): Map<string, V> {
  const out = new Map<string, V>();
  for (const [index, layer] of layers.entries()) {
    for (const [key, value] of entries(layer)) {
      const path = [...(layer.at ?? []), ...(JSON.parse(key) as PathSegment[])];
      if (merged.layerOf(path) === index) out.set(JSON.stringify(path), value);
    }
  }
  return out;
}

/**
 * Where the other keys a problem names were written, when another layer
 * wrote them: "cannot specify both image and dockerfile", with the image
 * from a base, names the base's line too.
 */
function alsoWrittenIn(
  raw: RawProblem,
  layers: readonly Layer[],
  merged: Merged,
  own: Layer,
): string {
  // An unknown key's message lists the known ones: where each was set would only be noise.
  if (layers.length < 2 || raw.at === 'key') return '';
  const parentPath = raw.path.slice(0, -1);
  const parent = valueAt(merged.data, parentPath);
  const siblings = isRecord(parent) ? Object.keys(parent) : [];
  const container = raw.path.length === 0 ? merged.data : undefined;
  const keys = container === undefined ? siblings : Object.keys(container);
  const base = container === undefined ? parentPath : [];
  const notes = keys
    .filter((key) => key !== raw.path[raw.path.length - 1])
    .filter((key) => new RegExp(`(^|[^\\w])${escapeRegExp(key)}($|[^\\w])`).test(raw.message))
    .flatMap((key) => {
      const index = merged.layerOf([...base, key]);
      const layer = index === undefined ? undefined : layers[index];
      if (layer === undefined || layer === own) return [];
      const at = placeInLayer(layer, [...base, key].slice(layer.at?.length ?? 0), '', 'key');
      return [
        `${key} is set ${at.line === 0 ? `by ${at.file}` : `in ${at.file}:${at.line}:${at.column}`}`,
      ];
    });
  return notes.length === 0 ? '' : ` (${notes.join('; ')})`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
