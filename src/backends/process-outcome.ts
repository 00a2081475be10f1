import { RunFailedError } from '../errors.js';
import { type ProcessOutcome, tooLargeToStart } from '../exec/process-runner.js';
import { outputLost } from '../exec/run-output.js';

/**
 * A process's end in the run's terms: a start failure or lost output is a
 * reason, never a success. A command the system refuses for its size fails
 * the run with a hint, since no run of it could ever start.
 */
export function toRunOutcome(
  outcome: ProcessOutcome,
  file: string,
): { exitCode: number | null; signal: string | null; reason?: string } {
  const tooLarge = tooLargeToStart(outcome);
  if (tooLarge !== undefined)
    throw new RunFailedError(`could not start the model: ${tooLarge.what}`, {
      hint: tooLarge.hint,
    });
  if (outcome.startError !== undefined)
    return {
      exitCode: null,
      signal: null,
      reason: `could not start ${file}: ${outcome.startError}`,
    };
  if (outcome.endUnknown !== undefined)
    return { exitCode: null, signal: null, reason: outcome.endUnknown, ...escapedDetails(outcome) };
  if (outcome.outputError !== undefined) {
    return {
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      reason: outputLost(outcome.outputError),
      ...escapedDetails(outcome),
    };
  }
  return { exitCode: outcome.exitCode, signal: outcome.signal, ...escapedDetails(outcome) };
}

/** run.json's record of escapees: pids and program names, never arguments, which may hold secrets. */
function escapedDetails(outcome: ProcessOutcome): { details?: Record<string, string> } {
  if (outcome.escaped === undefined) return {};
  const list = outcome.escaped.map((p) => `${p.pid} ${p.name}`).join('; ');
  return { details: { stopped_escaped_processes: list } };
}
