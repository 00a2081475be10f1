import * as z from 'zod';
import { backendRegistry } from '../backends/registry.js';
import type { PathContext } from '../config/path-context.js';
import { backendConfigSchema } from '../load/backend-config.js';
import { renderReference } from './reference-doc.js';

export type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema> };

/** Emitting a schema checks no paths, so any context will do. */
const EMIT_CONTEXT: PathContext = { baseDir: '/', home: '/', kindOf: () => 'directory' };

function emit(
  schema: z.ZodType,
  meta: { id: string; title: string; description: string },
): JsonSchema {
  const body = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    // Zod drops examples from transforming schemas in input mode, taking them
    // for output values. Ours are all written in the input form, so restore them.
    override: ({ zodSchema, jsonSchema }) => {
      const examples = z.globalRegistry.get(zodSchema)?.examples;
      if (Array.isArray(examples) && jsonSchema.examples === undefined)
        jsonSchema.examples = examples;
    },
  });
  const { $schema, ...rest } = body as JsonSchema;
  return { $schema, $id: meta.id, title: meta.title, description: meta.description, ...rest };
}

export function backendSchemaFileName(type: string): string {
  return `${type}.schema.json`;
}

export const COMBINED_BACKEND_SCHEMA = 'backend.schema.json';

/** The JSON Schema (draft 2020-12) of one backend type's config file. */
export function backendJsonSchema(type: string): JsonSchema {
  const backend = backendRegistry.find((b) => b.type === type);
  if (backend === undefined) throw new Error(`no backend type "${type}"`);
  return emit(backend.configSchema(EMIT_CONTEXT), {
    id: backendSchemaFileName(type),
    title: `modelrun ${type} backend config`,
    description: `Config for running a model on ${backend.description}.`,
  });
}

/** One schema for any backend config, a oneOf selected by `type`. */
export function combinedBackendJsonSchema(): JsonSchema {
  return emit(backendConfigSchema(EMIT_CONTEXT), {
    id: COMBINED_BACKEND_SCHEMA,
    title: 'modelrun backend config',
    description: `Config for running a model on one of: ${backendRegistry.map((b) => b.type).join(', ')}. The type field selects which.`,
  });
}

/** Every JSON Schema modelrun ships, by file name. */
export function allSchemas(): Map<string, JsonSchema> {
  const files = new Map<string, JsonSchema>();
  for (const backend of backendRegistry)
    files.set(backendSchemaFileName(backend.type), backendJsonSchema(backend.type));
  files.set(COMBINED_BACKEND_SCHEMA, combinedBackendJsonSchema());
  return files;
}

export const REFERENCE_FILE = 'reference.md';

/** The contents of the schemas/ folder: every JSON Schema, and the field reference generated from them. */
export function schemaFolderFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of allSchemas()) files.set(name, serializeSchema(schema));
  const sections = backendRegistry.map((backend) => ({
    heading: `Backend \`${backend.type}\``,
    intro: `Runs the model on ${backend.description}. Schema: [${backendSchemaFileName(backend.type)}](${backendSchemaFileName(backend.type)}).`,
    schema: backendJsonSchema(backend.type),
  }));
  files.set(REFERENCE_FILE, renderReference(sections));
  return files;
}

export function serializeSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
