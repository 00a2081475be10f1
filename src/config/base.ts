import * as z from 'zod';
import { durationSeconds, extendsField, schemaReference, stringMap } from './fields.js';
import type { PathContext } from './path-context.js';
import { existingPath } from './paths.js';

/**
 * A backend's `timeout`: at least a minute, at most a year. Runs of days and
 * weeks are real on a workstation or a long Slurm allocation; the run's
 * timer waits past what one setTimeout can hold (see long-timer.ts).
 */
export const TIMEOUT_BOUNDS = { min: 60, max: 365 * 86_400 } as const;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

/** The `timeout` field, documented for the backend that enforces it. */
export function timeoutField(description: string) {
  return durationSeconds(TIMEOUT_BOUNDS, {
    description: `${description} Whole seconds or a duration such as "90m", "1h30m" or "2d"; 60 seconds to 365 days.`,
    examples: [7200, '90m', '1h30m'],
  });
}

/** The `type` field that selects a backend or postprocessor. */
export function typeField<T extends string>(type: T, description: string) {
  return z.literal(type).meta({ description, examples: [type] });
}

/** Fields every backend config has, whatever its type. */
export function commonFields(ctx: PathContext) {
  return {
    $schema: schemaReference,
    extends: extendsField,
    timeout: timeoutField(
      'Wall-clock limit for the run, counted from when modelrun starts it, image pulls and builds included. When it expires, the model is stopped and the run is recorded as timed out.',
    ).prefault(DEFAULT_TIMEOUT_SECONDS),
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
