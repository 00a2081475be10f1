import { exitCodeFor, isKnownError } from '../errors.js';
import { placeOf } from '../problems.js';
import type { Output } from './output.js';

/** Prints any error for a person and returns the exit code it stands for. */
export function presentError(error: unknown, output: Output): number {
  if (isKnownError(error)) {
    output.error(error.message, error.problems.length > 0 ? undefined : error.hint);
    for (const p of error.problems) {
      output.info(`  ${placeOf(p)}`);
    }
    if (error.problems.length > 0 && error.hint !== undefined) output.hint(error.hint);
    if (error.cause !== undefined) output.debug(`caused by: ${describeCause(error.cause)}`);
    return exitCodeFor(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(
    `modelrun hit an unexpected error: ${message}`,
    output.verbose
      ? 'this is a bug in modelrun; please report it with the stack trace below'
      : 'this is a bug in modelrun; please report it, with the output of the same command run with --verbose',
  );
  if (output.verbose && error instanceof Error && error.stack !== undefined)
    output.info(error.stack);
  return exitCodeFor(error);
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}
