import * as z from 'zod';
import { backendRegistry } from '../backends/registry.js';
import type { PathContext } from '../config/path-context.js';
import { backendConfigSchema } from '../load/backend-config.js';
import { ensembleConfigSchema } from '../load/ensemble-file.js';
import { modelConfigSchema } from '../load/model-schema.js';
import { pipelineConfigSchema } from '../load/pipeline-file.js';
import { postprocessorRegistry, postprocessorSchema } from '../postprocess/registry.js';
import { acceptInterpolation } from './interpolation-schema.js';
import { addPatternMessages, refusedPatternsAsLookaheads } from './pattern-messages.js';
import { renderReference } from './reference-doc.js';
import { publishedSchemaUrl } from './schema-url.js';
import { splitUnionTypes } from './union-types.js';

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
      addPatternMessages(zodSchema, jsonSchema as JsonSchema);
    },
  });
  const { $schema, ...rest } = splitUnionTypes(
    acceptInterpolation(refusedPatternsAsLookaheads(hideSchemaKey(body)) as JsonSchema),
  ) as JsonSchema;
  return {
    $schema,
    $id: publishedSchemaUrl(meta.id),
    title: meta.title,
    description: meta.description,
    ...rest,
  };
}

/**
 * modelrun accepts a `$schema` key, as editors expect in JSON files, but it
 * is no field to propose: yaml-language-server takes its value as the file's
 * schema, and one example path cannot be right for every kind of file. A
 * pattern property allows it without offering it.
 */
function hideSchemaKey(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(hideSchemaKey);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(node)) out[key] = hideSchemaKey(child);
  const properties = out.properties;
  if (properties !== undefined && typeof properties === 'object' && '$schema' in properties) {
    const { $schema: reference, ...others } = properties as Record<string, JsonSchema>;
    const { examples: _examples, ...kept } = reference ?? {};
    out.properties = others;
    out.patternProperties = {
      ...(out.patternProperties as Record<string, JsonSchema> | undefined),
      '^\\$schema$': kept,
    };
  }
  return out;
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

export const MODEL_SCHEMA = 'model.schema.json';
export const PIPELINE_SCHEMA = 'pipeline.schema.json';
export const ENSEMBLE_SCHEMA = 'ensemble.schema.json';
export const COMBINED_POSTPROCESSOR_SCHEMA = 'postprocessor.schema.json';

export function postprocessorSchemaFileName(type: string): string {
  return `postprocess-${type}.schema.json`;
}

export function modelJsonSchema(): JsonSchema {
  return emit(modelConfigSchema(EMIT_CONTEXT), {
    id: MODEL_SCHEMA,
    title: 'modelrun model file',
    description:
      'A model run: its inputs (template and config), its command, and its postprocessing. The same file runs on every backend.',
  });
}

export function pipelineJsonSchema(): JsonSchema {
  return emit(pipelineConfigSchema(EMIT_CONTEXT), {
    id: PIPELINE_SCHEMA,
    title: 'modelrun pipeline file',
    description:
      'A model, its backend and its postprocessing in one file, each inline or as a path.',
  });
}

export function ensembleJsonSchema(): JsonSchema {
  return emit(ensembleConfigSchema(EMIT_CONTEXT), {
    id: ENSEMBLE_SCHEMA,
    title: 'modelrun ensemble file',
    description:
      'A model run as many members, one per set of values at --set paths (parameters, members, replicas), on one backend, with an aggregate step after them.',
  });
}

export function postprocessorJsonSchema(type: string): JsonSchema {
  const definition = postprocessorRegistry.find((p) => p.type === type);
  if (definition === undefined) throw new Error(`no postprocessor type "${type}"`);
  return emit(definition.configSchema(EMIT_CONTEXT), {
    id: postprocessorSchemaFileName(type),
    title: `modelrun ${type} postprocessor config`,
    description: `A postprocessor that ${definition.description}.`,
  });
}

export function combinedPostprocessorJsonSchema(): JsonSchema {
  return emit(postprocessorSchema(EMIT_CONTEXT), {
    id: COMBINED_POSTPROCESSOR_SCHEMA,
    title: 'modelrun postprocessor config',
    description: `Config of one postprocessor: ${postprocessorRegistry.map((p) => p.type).join(', ')}. The type field selects which.`,
  });
}

/** Every JSON Schema modelrun ships, by file name. */
export function allSchemas(): Map<string, JsonSchema> {
  const files = new Map<string, JsonSchema>();
  for (const backend of backendRegistry)
    files.set(backendSchemaFileName(backend.type), backendJsonSchema(backend.type));
  files.set(COMBINED_BACKEND_SCHEMA, combinedBackendJsonSchema());
  files.set(MODEL_SCHEMA, modelJsonSchema());
  files.set(PIPELINE_SCHEMA, pipelineJsonSchema());
  files.set(ENSEMBLE_SCHEMA, ensembleJsonSchema());
  for (const p of postprocessorRegistry)
    files.set(postprocessorSchemaFileName(p.type), postprocessorJsonSchema(p.type));
  files.set(COMBINED_POSTPROCESSOR_SCHEMA, combinedPostprocessorJsonSchema());
  return files;
}

export const REFERENCE_FILE = 'reference.md';

/** The contents of the schemas/ folder: every JSON Schema, and the field reference generated from them. */
export function schemaFolderFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of allSchemas()) files.set(name, serializeSchema(schema));
  const link = (name: string) => `Schema: [${name}](${name}).`;
  const sections = [
    {
      heading: 'Model file',
      intro: `What to stage, what to run and what to do with the outputs. ${link(MODEL_SCHEMA)}`,
      schema: modelJsonSchema(),
    },
    ...backendRegistry.map((backend) => ({
      heading: `Backend \`${backend.type}\``,
      intro: `Runs the model on ${backend.description}. ${link(backendSchemaFileName(backend.type))}`,
      schema: backendJsonSchema(backend.type),
    })),
    ...postprocessorRegistry.map((p) => ({
      heading: `Postprocessor \`${p.type}\``,
      intro: `A postprocessor that ${p.description}. ${link(postprocessorSchemaFileName(p.type))}`,
      schema: postprocessorJsonSchema(p.type),
    })),
    {
      heading: 'Pipeline file',
      intro: `A model, its backend and its postprocessing in one file. ${link(PIPELINE_SCHEMA)}`,
      schema: pipelineJsonSchema(),
    },
    {
      heading: 'Ensemble file',
      intro: `A pipeline run as many members, one per set of values, then aggregated. ${link(ENSEMBLE_SCHEMA)}`,
      schema: ensembleJsonSchema(),
    },
  ];
  files.set(REFERENCE_FILE, renderReference(sections));
  return files;
}

export function serializeSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
