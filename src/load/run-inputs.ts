import { dirname, resolve } from 'node:path';
import { localBackend } from '../backends/local/index.js';
import { diskPathContext } from '../config/path-context.js';
import type { ModelConfig } from '../model/model-config.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { type BackendConfig, validateBackendFile } from './backend-config.js';
import { fileInput, STDIN_ARG, sourceOf } from './file-input.js';
import { validateModelFile, validatePostprocessorFile } from './model-file.js';
import type { Placer } from './mpi-rule.js';
import type { SourceResult } from './read-source.js';
import { requireValid } from './require-valid.js';
import type { ValidationResult } from './validate.js';

/**
 * The files a run is made of, loaded or refused with a ConfigError: what
 * both the CLI's run commands and the library's runModel read.
 */

/** Where file arguments are read from, and the environment they interpolate. */
export type FileContext = {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Standard input, read for the argument `-` (readStdinArgument). */
  stdin?: SourceResult;
};

/** A valid config, and where its fields were written, for checks that need another file too. */
export interface Placed<T> {
  value: T;
  place: Placer;
}

export function loadBackend(file: string, { env, cwd, stdin }: FileContext): Placed<BackendConfig> {
  const input = fileInput(file, cwd, stdin);
  return requirePlaced(
    validateBackendFile(input.path, { env, display: input.display, ...sourceOf(input) }),
    'backend config',
  );
}

export function requirePlaced<T>(result: ValidationResult<T>, what: string): Placed<T> {
  const value = requireValid(result, what);
  // A valid file was parsed, so it can always place a path.
  return { value, place: result.place as Placer };
}

/** Without a backend config, the model runs on the local backend with its defaults. */
export function defaultBackend(modelFile: string): BackendConfig {
  return localBackend.configSchema(diskPathContext(dirname(resolve(modelFile)))).parse({
    type: 'local',
  });
}

export function loadPostprocessors(
  files: string[],
  { env, cwd, stdin }: FileContext,
): PostprocessorConfig[] {
  return files.map((file) => {
    const input = fileInput(file, cwd, stdin);
    return requireValid(
      validatePostprocessorFile(input.path, env, input.display, input.source),
      'postprocessor config',
    );
  });
}

export function requireModel(file: string, { env, cwd, stdin }: FileContext): ModelConfig {
  const input = fileInput(file, cwd, stdin);
  return requireValid(
    validateModelFile(input.path, env, input.display, input.source),
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
