import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import {
  backendJsonSchema,
  type JsonSchema,
  schemaFolderFiles,
  serializeSchema,
} from '../schema/json-schema.js';
import type { Output } from './output.js';

export interface BackendsSchemaOptions {
  backendType?: string;
  all: boolean;
  format: 'json' | 'yaml';
  output?: string;
}

/** Emits JSON Schemas: one type's to a file or stdout, or every schema into a folder. */
export async function runBackendsSchema(
  options: BackendsSchemaOptions,
  output: Output,
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
    await mkdir(options.output, { recursive: true });
    for (const [name, text] of schemaFolderFiles()) {
      const file = join(options.output, name);
      await writeFile(file, text);
      output.info(`wrote ${file}`);
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
    await mkdir(dirname(options.output), { recursive: true });
    await writeFile(options.output, text);
    output.info(`wrote ${options.output}`);
  }
  return 0;
}

function render(schema: JsonSchema, format: 'json' | 'yaml'): string {
  return format === 'json' ? serializeSchema(schema) : stringify(schema, { lineWidth: 0 });
}
