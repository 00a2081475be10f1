import { dirname, join, relative as relativePath, resolve } from 'node:path';
import { findBackend } from '../backends/registry.js';
import { UsageError } from '../errors.js';
import { parseYaml, toPlainData } from '../load/parse-yaml.js';
import { readSource } from '../load/read-source.js';
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
  const place = target ?? join(cwd, 'backend.yml');
  const schemaRef = schemaReference(backend.type, place);
  const base =
    options.extends === undefined
      ? undefined
      : readBase(resolve(cwd, options.extends), options.extends, backend.type, dirname(place));
  const text = renderTemplate(backendJsonSchema(backend.type), backend.template, {
    format,
    withExamples: options.withExamples,
    schemaRef,
    ...(base === undefined ? {} : { base }),
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

/** The base a new config extends: its path from the new file's folder, and the keys it sets. */
function readBase(
  path: string,
  shown: string,
  type: string,
  from: string,
): { path: string; keys: string[] } {
  const source = readSource(path);
  const parsed = source.ok ? parseYaml(source.text) : undefined;
  const data = parsed?.ok === true ? toPlainData(parsed.parsed) : undefined;
  if (data?.ok !== true)
    throw new UsageError(
      `--extends ${shown}: ${source.ok ? 'the file is not a YAML mapping' : source.message}`,
      { hint: 'give a backend config to extend; check it with `modelrun backends validate`' },
    );
  const written = data.data.type;
  if (written !== undefined && written !== type)
    throw new UsageError(
      `--extends ${shown}: the base is a ${String(written)} config, not a ${type} one`,
      { hint: `pass --backend-type ${String(written)}, or another base` },
    );
  return { path: relativePath(from, path), keys: Object.keys(data.data) };
}
