import * as z from 'zod';
import {
  describeValue,
  documented,
  extendsField,
  schemaReference,
  strictObject,
} from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { existingPath } from '../config/paths.js';
import { postprocessorListSchema } from '../postprocess/registry.js';
import { isRecord } from '../records.js';
import { backendConfigSchema, backendLayering } from './backend-config.js';
import type { Layering } from './layering.js';
import { modelLayering } from './model-file.js';
import { modelConfigSchema } from './model-schema.js';
import type { ParseResult } from './parse-yaml.js';
import type { SourceResult } from './read-source.js';
import { schemaPerFolder } from './schema-cache.js';
import {
  type SchemaChoice,
  type ValidationResult,
  validateFile,
  validateParsed,
} from './validate.js';

/** A pipeline file: the model, its backend and its postprocessing, inline or by path. */
export function pipelineConfigSchema(ctx: PathContext) {
  return strictObject(pipelineShape(ctx));
}

/** The fields of a pipeline file, which an ensemble file has as well. */
export function pipelineShape(ctx: PathContext) {
  const fileOr = <T extends z.ZodType>(inline: T, what: string, example: string) =>
    z.union(
      [
        existingPath(ctx, 'file', { description: `Path to a ${what} file.`, examples: [example] }),
        inline,
      ],
      {
        // A value of neither shape fits no branch, and zod would say only "Invalid input".
        // For a text or a mapping, the branch it was written as reports its own problems.
        error: (issue) =>
          typeof issue.input === 'string' || isRecord(issue.input)
            ? undefined
            : `must be the path of a ${what} file, or the ${what} written inline as a mapping; got ${describeValue(issue.input)}`,
      },
    );
  return {
    $schema: schemaReference,
    extends: extendsField,
    model: documented(fileOr(modelConfigSchema(ctx), 'model', 'model.yml'), {
      description:
        "The model: a path to a model file (relative to this file's folder), or the model file's contents inline.",
      examples: ['../wave/model.yml'],
    }),
    backend: documented(fileOr(backendConfigSchema(ctx), 'backend config', 'backends/docker.yml'), {
      description:
        'The backend: a path to a backend config, or the config inline. Default: the local backend. --backend-config overrides it.',
      examples: [{ type: 'local', timeout: '30m' }],
    }).optional(),
    postprocess: documented(postprocessorListSchema(ctx), {
      description:
        "Postprocessors to run instead of the model file's own. --postprocessor-config overrides them.",
      examples: [[{ type: 'checksum' }]],
    }).optional(),
  };
}

export type PipelineConfig = z.output<ReturnType<typeof pipelineConfigSchema>>;

const schemaFor = schemaPerFolder(pipelineConfigSchema);

export function validatePipelineFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
  layering: PipelineLayering = {},
): ValidationResult<PipelineConfig> {
  return validateFile(file, schemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
    ...pipelineLayering(file, layering),
  });
}

/**
 * What layers a pipeline: its bases; under its inline `backend:` section
 * the site's defaults; and the command line's overrides, of the model into
 * an inline `model:` and of the backend into an inline `backend:` (unless
 * --backend-config replaces it). Overrides of a section given as a path go
 * to that file, as it is loaded.
 */
export interface PipelineLayering extends Layering {
  /** The backend comes from --backend-config: the `backend:` section is not used. */
  backendReplaced?: boolean;
}

export function pipelineLayering(file: string, layering: PipelineLayering) {
  const { backendReplaced = false } = layering;
  const model = modelLayering(file, layering, ['model']);
  const backend = backendLayering(file, layering, ['backend']);
  return {
    path: file,
    extendable: true,
    sections: [['model'], ['backend']],
    // Which sections are inline is known once the file is read: an override
    // of a section that is not a mapping is for the file it names.
    overrides: (data: Record<string, unknown>) => [
      ...(isRecord(data.model) ? model.overrides : []),
      ...(isRecord(data.backend) && !backendReplaced ? backend.overrides : []),
    ],
    ...(backendReplaced || backend.below === undefined ? {} : { below: backend.below }),
    freeFormKey: model.freeFormKey,
  };
}

/** Validates a parsed pipeline read from `file` (relative paths resolve against its folder), shown as `shown`. */
export function validatePipelineParsed(
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
  layering: PipelineLayering = {},
): ValidationResult<PipelineConfig> {
  return validateLayeredParsed(schemaFor(file), file, shown, parsed, env, layering);
}

/**
 * Validates a parsed file with a model: and a backend: section (a pipeline,
 * an ensemble), read from `file` and shown as `shown`, layered as a pipeline is.
 */
export function validateLayeredParsed<T>(
  schema: SchemaChoice<T>,
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
  layering: PipelineLayering,
): ValidationResult<T> {
  return validateParsed(shown, parsed, schema, { env, ...pipelineLayering(file, layering) });
}
