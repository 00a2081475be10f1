import { ExecFailure } from './exec/exec-failure.js';
import type { Problem } from './problems.js';

/**
 * The few error types modelrun shows to a person, and the one place that
 * turns them into exit codes. Anything thrown that is not one of these is a
 * bug, and the CLI presents it as one.
 */

export interface ErrorDetails {
  /** What the user can do next ("is dockerd running?"). */
  hint?: string;
  cause?: unknown;
}

abstract class ModelrunError extends Error {
  readonly hint: string | undefined;
  readonly problems: Problem[] = [];
  abstract readonly exitCode: number;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }
}

/** A config or model file is unreadable or invalid. */
export class ConfigError extends ModelrunError {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
  /** Each problem with its file, line and field, when the error is about file contents. */
  override readonly problems: Problem[];

  constructor(message: string, details: ErrorDetails & { problems?: Problem[] } = {}) {
    super(message, details);
    this.problems = details.problems ?? [];
  }
}

/** The command line itself is wrong: a missing file, a bad option value. */
export class UsageError extends ModelrunError {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** An engine (Docker, Apptainer, Slurm) cannot be used from here. */
export class EngineUnavailableError extends ModelrunError {
  override readonly name = 'EngineUnavailableError';
  readonly exitCode = 1;
}

/** The model, or one of the stages around it, did not succeed. */
export class RunFailedError extends ModelrunError {
  override readonly name = 'RunFailedError';
  readonly exitCode: number;

  constructor(message: string, details: ErrorDetails & { exitCode?: number } = {}) {
    super(message, details);
    this.exitCode = details.exitCode ?? 1;
  }
}

/**
 * A failure from exec/ (which knows no modelrun error type) as the run
 * failure it is, with its hint; anything else unchanged.
 */
export function asRunFailure(error: unknown): unknown {
  if (!(error instanceof ExecFailure)) return error;
  return new RunFailedError(error.message, {
    hint: error.hint,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}

export type KnownError = ConfigError | UsageError | EngineUnavailableError | RunFailedError;

export function isKnownError(error: unknown): error is KnownError {
  return error instanceof ModelrunError;
}

/** Exit code for an unexpected error: EX_SOFTWARE from sysexits.h. */
export const BUG_EXIT_CODE = 70;

export function exitCodeFor(error: unknown): number {
  return isKnownError(error) ? error.exitCode : BUG_EXIT_CODE;
}
