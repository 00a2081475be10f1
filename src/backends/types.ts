import type * as z from 'zod';
import type { PathContext } from '../config/path-context.js';

/** Whether a backend's engine can be used on this machine right now. */
export interface Availability {
  available: boolean;
  /** One line: the engine and its version, or why it cannot be used. */
  detail: string;
  /** What to do about it, when it is not available. */
  hint?: string;
}

export interface ProbeOptions {
  env: NodeJS.ProcessEnv;
  /** How long an engine may take to answer before it counts as unavailable. */
  timeoutMs: number;
}

/** A problem that does not make a config invalid but that the user should know about. */
export interface ConfigWarning {
  path: (string | number)[];
  message: string;
}

/** How `modelrun backends create` writes a starting config for this type. */
export interface TemplateSpec {
  /** Values that make the smallest valid config, beyond `type`. */
  required: Record<string, unknown>;
  /** Fields left commented out even with --with-examples, because they conflict with `required`. */
  alternatives?: string[];
}

/**
 * Everything modelrun knows about one backend type. A new backend is one
 * module exporting one of these, plus one line in the registry.
 */
export interface BackendDefinition {
  type: string;
  /** One line, shown by `modelrun backends list`. */
  description: string;
  /** The config schema; path fields resolve and check against `ctx`. */
  configSchema(ctx: PathContext): z.ZodType;
  /** Fields shown, in this order, in the one-line summary of a valid config. */
  summaryFields: string[];
  template: TemplateSpec;
  warnings?(config: Record<string, unknown>): ConfigWarning[];
  probe(options: ProbeOptions): Promise<Availability>;
}
