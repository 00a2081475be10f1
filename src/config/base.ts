import * as z from 'zod';
import { durationSeconds, schemaReference, stringMap } from './fields.js';
import type { PathContext } from './path-context.js';
import { existingPath } from './paths.js';

export const TIMEOUT_BOUNDS = { min: 60, max: 86_400 } as const;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

/** The `type` field that selects a backend or postprocessor. */
export function typeField<T extends string>(type: T, description: string) {
  return z.literal(type).meta({ description, examples: [type] });
}

/** Fields every backend config has, whatever its type. */
export function commonFields(ctx: PathContext) {
  return {
    $schema: schemaReference,
    timeout: durationSeconds(TIMEOUT_BOUNDS, {
      description:
        'Wall-clock limit for the model run, in seconds or as a duration such as "90m" or "1h30m". When it expires, the model is stopped and the run is recorded as timed out. 60 to 86400 seconds.',
      examples: [7200, '90m', '1h30m'],
    }).prefault(DEFAULT_TIMEOUT_SECONDS),
    env_vars: stringMap(
      {
        description:
          'Environment variables for the model. Numbers and booleans are passed as their text. Values of names containing TOKEN, SECRET, PASSWORD, PASSWD, KEY or CREDENTIAL are masked in everything modelrun prints or records.',
        examples: [{ OMP_NUM_THREADS: 4, MODEL_MODE: 'hindcast' }],
      },
      { names: 'env' },
    ),
    working_dir: existingPath(ctx, 'directory', {
      description:
        "Directory the model runs in, instead of the run's staging directory. It must exist. Relative paths are resolved against this config file's folder.",
      examples: ['.'],
    }).optional(),
  };
}

export type CommonConfig = {
  timeout: number;
  env_vars?: Record<string, string> | undefined;
  working_dir?: string | undefined;
};
