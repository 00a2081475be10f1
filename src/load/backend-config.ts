import type * as z from 'zod';
import type { BackendConfig, ConfigWarning, SecretField } from '../backends/contract.js';
import { backendRegistry, backendTypes, findBackend } from '../backends/registry.js';
import type { PathContext } from '../config/path-context.js';
import { namedType, unionByType } from '../config/union.js';
import type { PathSegment } from '../problems.js';
import { valueAt } from '../records.js';
import { isSecretName } from '../secrets.js';
import { type Layering, overridesOf, siteLayers } from './layering.js';
import type { ParseResult } from './parse-yaml.js';
import { type Reading, readingOf } from './read-once.js';
import type { SourceResult } from './read-source.js';
import { schemaPerFolderAndKind } from './schema-cache.js';
import {
  type ValidateOptions,
  type ValidationResult,
  validateFile,
  validateParsed,
  validateText,
} from './validate.js';

/** A validated backend config: its `type` plus that type's fields. */
export type { BackendConfig };

export function backendConfigSchema(ctx: PathContext): z.ZodType<BackendConfig> {
  const schemas = backendRegistry.map((backend) => backend.configSchema(ctx));
  return unionByType(schemas, backendTypes, 'backend');
}

/** The schema of the backend a file names by its `type`, else the union, which says what is wrong with it. */
const schemaFor = schemaPerFolderAndKind<BackendConfig>(
  (data) => namedType(data, backendTypes) ?? '',
  (ctx, type) => findBackend(type)?.configSchema(ctx) ?? backendConfigSchema(ctx),
);

export interface BackendFileOptions extends Reading {
  env: NodeJS.ProcessEnv;
  /** The type to assume when the file has no `type:`, and to require when it has one. */
  backendType?: string;
  /** The file's name as the user wrote it, when the path given has been resolved. */
  display?: string;
  /** The file's text already read (standard input). */
  source?: SourceResult;
  /** The overrides from the command line, and the site config's defaults. */
  layering?: Layering;
}

export function validateBackendFile(
  file: string,
  options: BackendFileOptions,
): ValidationResult<BackendConfig> {
  return validateFile(file, schemaFor(file), validateOptions(file, options));
}

/** Validates a parsed config read from `file` (relative paths resolve against its folder). */
export function validateBackendParsed(
  file: string,
  parsed: ParseResult,
  options: BackendFileOptions,
): ValidationResult<BackendConfig> {
  return validateParsed(
    options.display ?? file,
    parsed,
    schemaFor(file),
    validateOptions(file, options),
  );
}

/** Validates config text as if it were the file `file`; relative paths resolve against its folder. */
export function validateBackendText(
  file: string,
  text: string,
  options: BackendFileOptions,
): ValidationResult<BackendConfig> {
  return validateText(
    options.display ?? file,
    text,
    schemaFor(file),
    validateOptions(file, options),
  );
}

function validateOptions(file: string, options: BackendFileOptions): ValidateOptions {
  return {
    env: options.env,
    ...backendLayering(file, options.layering),
    ...(options.display === undefined ? {} : { display: options.display }),
    ...(options.source === undefined ? {} : { source: options.source }),
    ...readingOf(options),
    ...(options.backendType === undefined
      ? {}
      : { expected: { key: 'type', value: options.backendType, source: '--backend-type' } }),
    warnings: (config, { interpolated }) => {
      const backend = findBackend(String(config.type));
      return [
        ...literalSecrets(config, backend?.secretFields ?? COMMON_SECRET_FIELDS, interpolated),
        ...(backend?.warnings(config) ?? []),
      ];
    },
  };
}

/**
 * The options that layer a backend config (at `at` in its file: a
 * pipeline's `backend:` section): the site's defaults for its type under
 * it, its bases, and the backend overrides from the command line over it.
 */
export function backendLayering(
  file: string,
  { overrides = [], site }: Layering = {},
  at: PathSegment[] = [],
) {
  return {
    path: file,
    extendable: true,
    overrides: overridesOf(overrides, 'backend', at),
    ...(site === undefined
      ? {}
      : { below: (data: Record<string, unknown>) => siteLayers(site, data, at) }),
  };
}

/** The secret fields every backend has (config/base.ts), for a file whose type is unknown. */
const COMMON_SECRET_FIELDS: readonly SecretField[] = [['env_vars']];

/**
 * Secrets written into a config file end up in version control; suggest
 * taking them from the environment. `fields` are the backend's maps of
 * variables (its definition's secretFields), read as written: any may be
 * missing or of another type.
 */
function literalSecrets(
  config: Record<string, unknown>,
  fields: readonly SecretField[],
  interpolated: (path: PathSegment[]) => boolean,
): ConfigWarning[] {
  return fields.flatMap((field) => {
    const found = valueAt(config, field);
    const map: Record<string, unknown> = Object(found ?? {});
    return Object.keys(map)
      .filter((name) => isSecretName(name) && map[name] !== '' && !interpolated([...field, name]))
      .map((name) => ({
        path: [...field, name],
        message: `${name} looks like a secret written out in full, which ends up in version control or in the process list; write \${${name}} in the file to take it from the environment instead`,
      }));
  });
}
