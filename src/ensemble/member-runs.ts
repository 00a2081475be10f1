import { findBackend } from '../backends/registry.js';
import { ConfigError } from '../errors.js';
import type { Override } from '../load/override-arg.js';
import type { PipelineConfig } from '../load/pipeline-file.js';
import type { FileContext, Placed } from '../load/run-inputs.js';
import {
  type BackendRule,
  type LoadedRun,
  loadSections,
  type RunFiles,
  type RunLoad,
} from '../load/run-request.js';
import { placeOf } from '../problems.js';

/**
 * A member's run: the ensemble's model and backend with the member's values
 * set over them as `--set` values are. It is made twice: to check the
 * member before anything runs, and again when the member starts, from the
 * files as the check read them (`ctx.readOnce`). A member waiting its turn
 * holds its values, not its run: thousands of loaded runs held from the
 * check until each starts made an ensemble's memory grow with its size.
 */

export interface MemberRunSource {
  ensembleFile: string;
  /** The flags' files, over the ensemble file's sections. */
  files: Omit<RunFiles, 'modelFile' | 'pipelineFile'>;
  /** Where files are read from (once, through its ReadOnce), with the command line's overrides. */
  ctx: FileContext;
  /** The ensemble file checked with the command line's overrides alone. */
  whole: Placed<PipelineConfig>;
  /** The ensemble file checked with more overrides over those, for a member's run: a member's values. */
  validate(overrides: readonly Override[]): Placed<PipelineConfig>;
}

/** Loads a member's run from its values as overrides, with every error in it. */
export type MemberRunLoader = (overrides: readonly Override[]) => RunLoad;

export function memberRunLoader(source: MemberRunSource): MemberRunLoader {
  const { ensembleFile, files, ctx, whole, validate } = source;
  const global = ctx.overrides ?? [];
  const config = whole.value;
  // Only an inline section takes a member's values: with the model and the backend
  // in files of their own, the ensemble file checked once serves every member.
  const inline =
    typeof config.model !== 'string' ||
    (files.backendConfig === undefined &&
      config.backend !== undefined &&
      typeof config.backend !== 'string');
  return (overrides) => {
    const all = [...global, ...overrides];
    return loadSections(
      ensembleFile,
      inline ? () => validate(all) : () => whole,
      files,
      { ...ctx, overrides: all },
      batchRule,
    );
  };
}

/**
 * A member's backend config as its engine's batch (a Slurm array) can run
 * it: a field the batch cannot honour is an error at its place, when the
 * ensemble is checked, not when each member starts.
 */
const batchRule: BackendRule = (backend, place) => {
  const refused = findBackend(backend.type)?.batchRefuses ?? {};
  const set = Object.keys(refused).filter(
    (field) => (backend as Record<string, unknown>)[field] !== undefined,
  );
  if (set.length === 0) return undefined;
  return new ConfigError(`${set.join(' and ')} cannot be set for an ensemble on ${backend.type}`, {
    hint: `leave ${set.join(' and ')} out of the ensemble's backend config`,
    problems: set.map((field) => place([field], refused[field] as string)),
  });
};

/** A member's run as it is staged: under its own run id, in a folder of its own in the ensemble's. */
export function stagedRun(run: LoadedRun, runId: string, dir: string): LoadedRun {
  return { ...run, model: { ...run.model, run_id: runId, output_dir: dir, run_id_subdir: true } };
}

/**
 * A member's run made again when it starts, as it was checked. Only what
 * the disk says beyond the files read can have changed since: a template
 * folder removed fails that member alone, saying why.
 */
export function remadeRun(
  load: MemberRunLoader,
  member: { index: number; runId: string; overrides: readonly Override[] },
  dir: string,
): LoadedRun {
  const loaded = load(member.overrides);
  if ('run' in loaded) return stagedRun(loaded.run, member.runId, dir);
  const [error] = loaded.errors;
  const [problem] = error?.problems ?? [];
  throw new ConfigError(
    `member ${member.index} no longer loads as it was checked: ${error?.message ?? 'its run could not be made'}${problem === undefined ? '' : `; ${placeOf(problem)}`}`,
    { hint: 'check the ensemble again with modelrun validate', cause: error },
  );
}
