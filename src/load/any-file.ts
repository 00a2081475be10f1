import { dirname } from 'node:path';
import { isSeq } from 'yaml';
import type { BackendConfig } from '../backends/contract.js';
import { backendTypes } from '../backends/registry.js';
import { closestMatch } from '../config/did-you-mean.js';
import type { ModelConfig, PostprocessorConfig } from '../model/model-config.js';
import { postprocessorTypes } from '../postprocess/registry.js';
import { validateBackendParsed } from './backend-config.js';
import { type EnsembleConfig, validateEnsembleParsed } from './ensemble-file.js';
import { FILE_KINDS, type FileKind } from './file-kind.js';
import { interpolateString } from './interpolate.js';
import type { Layering } from './layering.js';
import { basePath, EXTENDS_KEY, MAX_EXTENDS_DEPTH } from './layers.js';
import { validateModelParsed, validatePostprocessorParsed } from './model-file.js';
import { type ParseResult, type PositionedDocument, parseYaml } from './parse-yaml.js';
import { type PipelineConfig, validatePipelineParsed } from './pipeline-file.js';
import { locate } from './positions.js';
import { readSource, type SourceResult } from './read-source.js';
import { readForValidation, type ValidationResult } from './validate.js';

export interface AnyFileOptions {
  env: NodeJS.ProcessEnv;
  /** The file's name as the user wrote it, when `file` has been resolved. */
  display?: string;
  /** The kind to check it as; told apart by its content when not given. */
  kind?: FileKind;
  /** The file's text already read (standard input). */
  source?: SourceResult;
  /** The overrides from the command line, and the site config's defaults. */
  layering?: Layering;
}

/**
 * A checked file of any kind, with the kind it was checked as, which
 * narrows its value; `kind` is undefined when none could be told.
 */
export type AnyFileResult =
  | (ValidationResult<ModelConfig> & { kind: 'model' })
  | (ValidationResult<PipelineConfig> & { kind: 'pipeline' })
  | (ValidationResult<EnsembleConfig> & { kind: 'ensemble' })
  | (ValidationResult<PostprocessorConfig> & { kind: 'postprocessor' })
  | (ValidationResult<BackendConfig> & { kind: 'backend' })
  | (ValidationResult & { kind: undefined });

function checkAs(
  kind: FileKind,
  file: string,
  shown: string,
  parsed: ParseResult,
  { env, layering = {} }: AnyFileOptions,
): AnyFileResult {
  switch (kind) {
    case 'model':
      return { ...validateModelParsed(file, shown, parsed, env, layering), kind };
    case 'pipeline':
      return { ...validatePipelineParsed(file, shown, parsed, env, layering), kind };
    case 'ensemble':
      return { ...validateEnsembleParsed(file, shown, parsed, env, layering), kind };
    case 'postprocessor':
      return { ...validatePostprocessorParsed(file, shown, parsed, env), kind };
    case 'backend':
      return { ...validateBackendParsed(file, parsed, { env, display: shown, layering }), kind };
  }
}

/** Validates a model, pipeline, postprocessor or backend file, as `kind` or as its content shows. */
export function validateAnyFile(file: string, options: AnyFileOptions): AnyFileResult {
  const shown = options.display ?? file;
  const read = readForValidation(file, shown, options.source);
  if (!read.ok) return { ...read.failed, kind: options.kind };
  // Parsed once: the kind is read from the same document that is then checked.
  const parsed = parseYaml(read.text);
  const kind = options.kind ?? (parsed.ok ? kindOf(parsed.parsed, file, options.env) : undefined);
  if (typeof kind === 'string') return checkAs(kind, file, shown, parsed, options);
  // Text that does not parse says so in any kind's terms; the model's will do.
  if (kind === undefined)
    return { ...validateModelParsed(file, shown, parsed, options.env), kind: undefined };
  const at = kind.at ?? { line: 1, column: 1 };
  return {
    file: shown,
    status: 'invalid',
    value: undefined,
    data: undefined,
    errors: [{ file: shown, ...at, path: kind.at === undefined ? '' : 'type', message: kind.why }],
    warnings: [],
    kind: undefined,
  };
}

/** The kind a file's content shows; undefined when it cannot be read, parsed or told. */
export function kindOfFile(file: string, env: NodeJS.ProcessEnv): FileKind | undefined {
  const source = readSource(file);
  const read = source.ok ? parseYaml(source.text) : undefined;
  if (read?.ok !== true) return undefined;
  const kind = kindOf(read.parsed, file, env);
  return typeof kind === 'string' ? kind : undefined;
}

/**
 * The kind of a file, or of the first file it extends when it shows none
 * itself: a file that extends a model may hold only `config:`.
 */
function kindOf(
  parsed: PositionedDocument,
  file: string,
  env: NodeJS.ProcessEnv,
  depth = 0,
): ReturnType<typeof detectKind> {
  const kind = detectKind(parsed);
  const written = parsed.doc.get(EXTENDS_KEY);
  const first = isSeq(written) ? written.get(0) : written;
  if (typeof kind === 'string' || typeof first !== 'string' || depth >= MAX_EXTENDS_DEPTH)
    return kind;
  const filled = interpolateString(first, env);
  if (filled.problems.length > 0) return kind;
  const base = basePath(dirname(file), filled.value);
  const source = readSource(base);
  const read = source.ok ? parseYaml(source.text) : undefined;
  // A base that cannot be read is reported where the file is checked; the file's own reason stands.
  if (read?.ok !== true) return kind;
  const inherited = kindOf(read.parsed, base, env, depth + 1);
  return typeof inherited === 'string' ? inherited : kind;
}

/** Keys that, beside `model:`, make a file an ensemble rather than a pipeline. */
const ENSEMBLE_KEYS = [
  'parameters',
  'members',
  'replicas',
  'ensemble_id',
  'aggregate',
  'max_parallel',
  'fail_fast',
];

/**
 * What kind of config a file's top-level mapping is, by the keys each kind
 * alone has: a pipeline has `model:`, an ensemble `model:` and one of
 * ENSEMBLE_KEYS, a model `run_id:`, a postprocessor a
 * `type:` naming a postprocessor, a backend config a `type:` naming a
 * backend. The two lists of types share no name (a test says so), so
 * exactly one sign means that kind; none or several, and the user says
 * which with --kind. A misspelt type (`loacl`) is the kind of the type it is
 * nearest to, so that kind's check says "did you mean" at the value.
 */
export function detectKind(
  parsed: PositionedDocument,
): FileKind | { why: string; at?: { line: number; column: number } } {
  // Read from the YAML document itself: cheap, and nothing is expanded.
  const { doc } = parsed;
  const type = doc.get('type');
  const signs: [FileKind, string][] = [];
  const ensemble = ENSEMBLE_KEYS.find((key) => doc.has(key));
  // An ensemble is a pipeline with members; its run_id: is the members' template.
  if (doc.has('model') && ensemble !== undefined)
    signs.push(['ensemble', `\`model:\` and \`${ensemble}:\``]);
  else {
    if (doc.has('model')) signs.push(['pipeline', '`model:`']);
    if (doc.has('run_id')) signs.push(['model', '`run_id:`']);
  }
  if (typeof type === 'string' && postprocessorTypes.includes(type))
    signs.push(['postprocessor', `\`type: ${type}\``]);
  if (typeof type === 'string' && backendTypes.includes(type))
    signs.push(['backend', `\`type: ${type}\``]);
  const [only] = signs;
  if (signs.length === 1 && only !== undefined) return only[0];
  const passKind = `pass --kind ${FILE_KINDS.join('|')}`;
  if (signs.length > 0) {
    const what = signs.map(([kind, sign]) => `${sign} (a ${kind})`).join(' and ');
    return { why: `cannot tell what kind of config this is: it has ${what}; ${passKind}` };
  }
  if (!doc.has('type'))
    return {
      why: `cannot tell what kind of config this is: it has none of \`model:\` (a pipeline; with \`parameters:\` or \`members:\`, an ensemble), \`run_id:\` (a model) or \`type:\` (a postprocessor or backend config); ${passKind}`,
    };
  const nearest =
    typeof type === 'string'
      ? closestMatch(type, [...postprocessorTypes, ...backendTypes])
      : undefined;
  if (nearest !== undefined)
    return postprocessorTypes.includes(nearest) ? 'postprocessor' : 'backend';
  const postprocessors = `postprocessor type (${postprocessorTypes.join(', ')})`;
  const backends = `backend type (${backendTypes.join(', ')})`;
  const why =
    typeof type !== 'string'
      ? `type must be a name: a ${postprocessors} or a ${backends}`
      : type.includes('${')
        ? // Only a type expanded from the environment is one --kind can settle.
          `type ${JSON.stringify(type)} tells its kind only once expanded: pass --kind postprocessor or --kind backend`
        : `type ${JSON.stringify(type)} is neither a ${postprocessors} nor a ${backends}`;
  return { why, at: locate(parsed, ['type']) };
}
