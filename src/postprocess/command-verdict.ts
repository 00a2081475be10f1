import { describeStopped, type FoundProcess } from '../exec/escaped-processes.js';
import { type ProcessOutcome, tooLargeToStart } from '../exec/process-runner.js';
import type { PostprocessOutcome } from './types.js';

/** The postprocessor's verdict on how its command ended. */
export function judge(
  outcome: ProcessOutcome,
  shown: string,
  detail: string,
  redact: (text: string) => string,
  stop: { timedOut: number | undefined; cancelled: boolean },
): PostprocessOutcome {
  if (stop.timedOut !== undefined)
    return { status: 'failed', summary: `${shown} timed out after ${stop.timedOut} s` };
  if (stop.cancelled) return { status: 'failed', summary: `${shown} was cancelled` };
  const tooLarge = tooLargeToStart(outcome);
  if (tooLarge !== undefined)
    return {
      status: 'failed',
      summary: `${shown} could not start: ${tooLarge.what}; ${tooLarge.hint}`,
    };
  if (outcome.startError !== undefined)
    return { status: 'failed', summary: `${shown} could not start: ${redact(outcome.startError)}` };
  if (outcome.signal !== null)
    return { status: 'failed', summary: `${shown} was killed by ${outcome.signal}${detail}` };
  if (outcome.exitCode !== 0) {
    return {
      status: 'failed',
      summary: `${shown} exited ${outcome.exitCode}${detail}`,
      details: { exit_code: outcome.exitCode },
    };
  }
  return { status: 'succeeded', summary: `${shown} succeeded`, details: { exit_code: 0 } };
}

/**
 * Names what the command left running outside its process group, now
 * stopped: in the summary with its command line (masked), in the details
 * by pid and program name only.
 */
export function withEscaped(
  result: PostprocessOutcome,
  escaped: FoundProcess[] | undefined,
  redact: (text: string) => string,
): PostprocessOutcome {
  if (escaped === undefined) return result;
  return {
    ...result,
    summary: `${result.summary}; ${redact(describeStopped(escaped, 'its'))}`,
    details: {
      ...result.details,
      stopped_escaped_processes: escaped.map((p) => ({ pid: p.pid, name: p.name })),
    },
  };
}
