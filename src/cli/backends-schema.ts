import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import {
  backendJsonSchema,
  type JsonSchema,
  schemaFolderFiles,
  serializeSchema,
} from '../schema/json-schema.js';
import type { BackendsSchemaOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { checkOutputFile, refuseEmptyOutput, writeOutputFile } from './write-output.js';

/** Emits JSON Schemas: one type's to a file or stdout, or every schema into a folder. */
export async function runBackendsSchema(
  options: BackendsSchemaOptions,
  { output, cwd }: Pick<CommandContext, 'output' | 'cwd'>,
): Promise<number> {
  if (options.all) {
    if (options.backendType !== undefined)
      throw new UsageError('give either --backend-type or --all, not both');
    if (options.output === undefined) {
      throw new UsageError('--all writes one file per schema', {
        hint: 'add --output DIR, such as --output schemas',
      });
    }
    if (options.format !== 'json')
      throw new UsageError('--all writes JSON files; drop --format yaml');
    refuseEmptyOutput(options.output, 'folder');
    const dir = resolve(cwd, options.output);
    const files = [...schemaFolderFiles()].map(([name, text]) => ({
      file: { path: join(dir, name), shown: join(options.output as string, name) },
      text,
    }));
    // Every file is checked before any is written, so a refusal changes nothing.
    for (const { file } of files) await checkOutputFile(file, options.force);
    for (const { file, text } of files) {
      await writeOutputFile(file, text, options.force);
      output.info(`wrote ${file.shown}`);
    }
    return 0;
  }
  if (options.backendType === undefined) {
    throw new UsageError('say which schema to emit', {
      hint: 'add --backend-type TYPE, or --all --output DIR',
    });
  }
  const text = render(backendJsonSchema(options.backendType), options.format);
  if (options.output === undefined) {
    output.raw(text);
  } else {
    const path = resolve(cwd, options.output);
    await writeOutputFile({ path, shown: options.output }, text, options.force);
    output.info(`wrote ${options.output}`);
  }
  return 0;
}

function render(schema: JsonSchema, format: 'json' | 'yaml'): string {
  return format === 'json' ? serializeSchema(schema) : stringify(schema, { lineWidth: 0 });
}
