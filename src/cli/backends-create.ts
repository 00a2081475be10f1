import { join, resolve } from 'node:path';
import { findBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { backendJsonSchema } from '../schema/json-schema.js';
import { schemaReference } from '../schema/schema-reference.js';
import { renderTemplate } from '../schema/template.js';
import type { BackendsCreateOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { writeOutputFile } from './write-output.js';

/** Writes a starting config for one backend type that passes `validate` as written. */
export async function runBackendsCreate(
  options: BackendsCreateOptions,
  { output, cwd }: Pick<CommandContext, 'output' | 'cwd'>,
): Promise<number> {
  const backend = findBackend(options.backendType);
  if (backend === undefined) throw new UsageError(`no backend type "${options.backendType}"`);
  // Without --format: json for an --output ending in .json, else yaml.
  const format = options.format ?? (options.output?.endsWith('.json') ? 'json' : 'yaml');
  const target = options.output === undefined ? undefined : resolve(cwd, options.output);
  // Written to standard output, the file's place is not known: take the folder it is run in.
  const schemaRef = schemaReference(backend.type, target ?? join(cwd, 'backend.yml'));
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
