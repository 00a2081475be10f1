import type * as z from 'zod';
import type { TemplateSpec } from '../backends/contract.js';
import type { PathContext } from '../config/path-context.js';
import type { TypedSchema } from '../config/union.js';
import type { Guard, ProcessGroupTask } from '../exec/guard.js';
import type { PostprocessorConfig } from '../model/model-config.js';

/** What a postprocessor is told about the run whose outputs it works on. */
export interface PostprocessContext {
  runId: string;
  /** The run's staging directory, where the model wrote its outputs. */
  stagingDir: string;
  /** The model file's output_dir; the archive goes here by default. */
  outputDir: string;
  /** Aborted on Ctrl-C or SIGTERM; long work stops early when it fires. */
  signal: AbortSignal;
  /** Progress lines for the user, such as "archived 1.2 GiB of 3.4 GiB". */
  progress(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Where a postprocessor that runs a program echoes its output; not echoed when absent. */
  terminal?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** Hands the programs it starts to the guardian, which stops them should modelrun die first. */
  guard?: Guard<ProcessGroupTask> | undefined;
  /**
   * Masks known secret values in free text the postprocessor puts in its
   * summary (a command line, a stderr tail); its own words and paths it
   * leaves as they are. Absent: nothing to mask.
   */
  redact?: (text: string) => string;
}

export interface PostprocessOutcome {
  status: 'succeeded' | 'failed';
  /** One line for the run summary: "wrote out/run-1.tar.gz (42 files, 3.1 MiB)"; free text in it already masked. */
  summary: string;
  /** Machine-readable facts recorded in run.json, such as the archive path and size. */
  details?: Record<string, unknown>;
}

// The type lives with the model file, which lists the postprocessors to run.
export type { PostprocessorConfig };

/** A postprocessor's config schema, one member of the union selected by `type`. */
export type PostprocessorSchema = TypedSchema<PostprocessorConfig>;

/**
 * One postprocessor type, as its module writes it: `run` gets the config
 * its own schema produces, inferred, with no cast.
 */
export interface PostprocessorSpec<Schema extends PostprocessorSchema> {
  type: z.output<Schema>['type'];
  /** One line, shown by `modelrun backends list`. */
  description: string;
  configSchema(ctx: PathContext): Schema;
  summaryFields: string[];
  template: TemplateSpec;
  /** Runs on a finished run. Failures are returned, not thrown; a throw is a bug. */
  run(config: z.output<Schema>, context: PostprocessContext): Promise<PostprocessOutcome>;
}

/**
 * Everything modelrun knows about one postprocessor type: one module and one
 * line in the registry, like a backend.
 */
export interface PostprocessorDefinition {
  type: string;
  description: string;
  configSchema(ctx: PathContext): PostprocessorSchema;
  summaryFields: string[];
  template: TemplateSpec;
  run(config: PostprocessorConfig, context: PostprocessContext): Promise<PostprocessOutcome>;
}

/** Makes a postprocessor's definition from its spec; see defineBackend. */
export function definePostprocessor<Schema extends PostprocessorSchema>(
  spec: PostprocessorSpec<Schema>,
): PostprocessorDefinition {
  // Validated configs only: the union by `type` hands each schema's output to its own postprocessor.
  const owns = (config: PostprocessorConfig): config is z.output<Schema> & PostprocessorConfig =>
    config.type === spec.type;
  return {
    type: spec.type,
    description: spec.description,
    configSchema: spec.configSchema,
    summaryFields: spec.summaryFields,
    template: spec.template,
    run(config, context) {
      if (!owns(config))
        throw new Error(`a ${config.type} config given to the ${spec.type} postprocessor`);
      return spec.run(config, context);
    },
  };
}
