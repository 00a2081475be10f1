import { EngineUnavailableError, RunFailedError } from '../../errors.js';
import { interruptExitCode, type StopReason } from '../../exec/stop-reason.js';

/**
 * How long the engine may take to answer a call that should be quick: its
 * version, an image lookup, a container's creation. A loaded engine answers
 * these in well under a second; one that has not answered in 15 s is hung,
 * or the address is something that accepts connections but is no engine.
 * Pulls and builds are not bounded (they can take long), only interruptible.
 */
export const ENGINE_ANSWER_MS = 15_000;

export interface Deadline {
  /** The engine's address, for the message. */
  address: string;
  /** What was asked, for the message: "the version request". */
  what: string;
  /** The run's own stop (a signal, the run's timeout): ends the wait at once. */
  stop?: AbortSignal | undefined;
  ms?: number;
}

/**
 * Runs one quick engine call, handing it a signal that aborts at the
 * deadline or when the run is stopped. The wait ends then even if the
 * engine client ignores the signal: an engine that never answers must not
 * keep modelrun waiting, nor keep a Ctrl-C waiting for cleanup.
 */
export async function answered<T>(
  call: (signal: AbortSignal) => Promise<T>,
  deadline: Deadline,
): Promise<T> {
  const ms = deadline.ms ?? ENGINE_ANSWER_MS;
  const timedOut = new AbortController();
  const timer = setTimeout(() => timedOut.abort(), ms);
  const signal =
    deadline.stop === undefined
      ? timedOut.signal
      : AbortSignal.any([timedOut.signal, deadline.stop]);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(deadline, ms, timedOut.signal.aborted));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), aborted]);
  } catch (error) {
    // The client's own AbortError says less than ours.
    if (signal.aborted) throw abortError(deadline, ms, timedOut.signal.aborted);
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function abortError(
  { address, what, stop }: Deadline,
  ms: number,
  timedOut: boolean,
): EngineUnavailableError | RunFailedError {
  const reason = stop?.reason as StopReason | undefined;
  if (!timedOut && reason?.kind === 'interrupt')
    return new RunFailedError(
      `stopped by ${reason.signal} while waiting for the Docker engine at ${address} to answer ${what}`,
      { exitCode: interruptExitCode(reason.signal) },
    );
  if (!timedOut)
    return new RunFailedError(
      `the run was stopped while waiting for the Docker engine at ${address} to answer ${what}`,
    );
  return new EngineUnavailableError(
    `the Docker engine at ${address} does not answer: no reply to ${what} within ${ms / 1000} s`,
    {
      hint: 'check that the address is a Docker engine and that `docker info` answers; if it hangs too, restart dockerd (`sudo systemctl restart docker`), or point DOCKER_HOST or docker_host at an engine that answers',
    },
  );
}
