import { resolve } from 'node:path';
import { localBackend } from '../backends/local/index.js';
import type { ModelConfig } from '../model/model-config.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { formatPath, type Problem } from '../problems.js';
import {
  type BackendConfig,
  validateBackendFile,
  validateBackendParsed,
} from './backend-config.js';
import { fileInput, STDIN_ARG, sourceOf } from './file-input.js';
import type { Layering } from './layering.js';
import { validateModelFile, validatePostprocessorFile } from './model-file.js';
import type { Placer } from './mpi-rule.js';
import { parseYaml } from './parse-yaml.js';
import { type Reading, readingOf } from './read-once.js';
import type { SourceResult } from './read-source.js';
import { DEFAULT_BACKEND_NAME, requireValid } from './require-valid.js';
import { schemaPerFolder } from './schema-cache.js';
import type { ValidationResult } from './validate.js';

/**
 * The files a run is made of, loaded or refused with a ConfigError: what
 * both the CLI's run commands and the library's runModel read.
 */

/**
 * Where file arguments are read from, the environment they interpolate,
 * what is layered over and under them, and for a load that makes many runs
 * of the same files (an ensemble's), the ReadOnce each is read through.
 */
export type FileContext = Layering &
  Reading & {
    env: NodeJS.ProcessEnv;
    cwd: string;
    /** Standard input, read for the argument `-` (readStdinArgument). */
    stdin?: SourceResult;
  };

/** A valid config, where its fields were written (for checks that need another file too), and its warnings. */
export interface Placed<T> {
  value: T;
  place: Placer;
  warnings?: Problem[];
  /** Whether it was merged from more than one layer: bases, the site config, overrides. */
  layered?: boolean;
}

export function loadBackend(file: string, ctx: FileContext): Placed<BackendConfig> {
  const input = fileInput(file, ctx.cwd, ctx.stdin);
  return requirePlaced(
    validateBackendFile(input.path, {
      env: ctx.env,
      display: input.display,
      ...sourceOf(input),
      ...readingOf(ctx),
      layering: ctx,
    }),
    'backend config',
  );
}

export function requirePlaced<T>(result: ValidationResult<T>, what: string): Placed<T> {
  const value = requireValid(result, what);
  // A valid file was parsed, so it can always place a path.
  return {
    value,
    place: result.place as Placer,
    warnings: result.warnings,
    layered: (result.layers?.length ?? 1) > 1,
  };
}

/**
 * The local backend's schema, built once per folder: building one, and
 * zod's first parse with it, cost most of a millisecond, once for every
 * member of an ensemble that names no backend.
 */
const localSchemaFor = schemaPerFolder((ctx) => localBackend.configSchema(ctx));

/**
 * Without a backend config, the model runs on the local backend with its
 * defaults: the site's for local, under the command line's backend overrides.
 */
export function defaultBackend(modelFile: string, ctx: Layering = {}): Placed<BackendConfig> {
  const layered =
    ctx.site?.layerFor('local') !== undefined ||
    (ctx.overrides ?? []).some((override) => override.target === 'backend');
  if (!layered) {
    const value = localSchemaFor(modelFile).parse({ type: 'local' });
    return {
      value,
      place: (path, message) => ({
        file: DEFAULT_BACKEND_NAME,
        line: 0,
        column: 0,
        path: formatPath(path),
        message,
      }),
    };
  }
  return requirePlaced(
    validateBackendParsed(resolve(modelFile), parseYaml('type: local\n'), {
      env: {},
      display: DEFAULT_BACKEND_NAME,
      layering: ctx,
    }),
    'backend config',
  );
}

export function loadPostprocessors(files: string[], ctx: FileContext): PostprocessorConfig[] {
  const { env, cwd, stdin } = ctx;
  return files.map((file) => {
    const input = fileInput(file, cwd, stdin);
    return requireValid(
      validatePostprocessorFile(input.path, env, input.display, input.source, ctx),
      'postprocessor config',
    );
  });
}

export function requireModel(file: string, ctx: FileContext): Placed<ModelConfig> {
  const input = fileInput(file, ctx.cwd, ctx.stdin);
  return requirePlaced(
    validateModelFile(input.path, ctx.env, input.display, input.source, ctx),
    'model file',
  );
}

/** The files named on the command line, absolute: a folder modelrun deletes never holds one. */
export function configFiles(
  { cwd }: { cwd: string },
  ...files: (string | string[] | undefined)[]
): string[] {
  return files
    .flat()
    .flatMap((file) => (file === undefined || file === STDIN_ARG ? [] : [resolve(cwd, file)]));
}
