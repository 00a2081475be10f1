import { dirname, join, relative, resolve } from 'node:path';
import { findBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { SCHEMAS_DIR } from '../package-info.js';
import { backendJsonSchema, backendSchemaFileName } from '../schema/json-schema.js';
import { renderTemplate } from '../schema/template.js';
import type { Output } from './output.js';
import { writeOutputFile } from './write-output.js';

export interface BackendsCreateOptions {
  backendType: string;
  output?: string;
  /** Defaults to json for an --output ending in .json, else yaml. */
  format?: 'yaml' | 'json';
  withExamples: boolean;
  force: boolean;
  cwd: string;
}

/** Writes a starting config for one backend type that passes `validate` as written. */
export async function runBackendsCreate(
  options: BackendsCreateOptions,
  output: Output,
): Promise<number> {
  const backend = findBackend(options.backendType);
  if (backend === undefined) throw new UsageError(`no backend type "${options.backendType}"`);
  const format = options.format ?? (options.output?.endsWith('.json') ? 'json' : 'yaml');
  const target = options.output === undefined ? undefined : resolve(options.cwd, options.output);
  const schemaFile = join(SCHEMAS_DIR, backendSchemaFileName(backend.type));
  const schemaRef =
    relative(target === undefined ? options.cwd : dirname(target), schemaFile) || schemaFile;
  const text = renderTemplate(backendJsonSchema(backend.type), backend.template, {
    format,
    withExamples: options.withExamples,
    schemaRef,
  });
  if (target === undefined || options.output === undefined) {
    output.raw(text);
    return 0;
  }
  await writeOutputFile({ path: target, shown: options.output }, text, options.force);
  output.info(
    `wrote ${options.output}; check it with: modelrun backends validate ${options.output}`,
  );
  return 0;
}
