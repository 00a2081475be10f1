import type { StopReason } from '../exec/stop-reason.js';
import { cancelRequested } from '../model/cancel-request.js';

/** How often a run looks for a `modelrun cancel` request. */
const LOOK_MS = 1000;

/**
 * A signal that aborts, with a `request` stop, once `modelrun cancel` has
 * left its request in the run's .modelrun/. `stop()` ends the looking.
 */
export function watchCancelRequests(stagingDir: string): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let looking = false;
  const timer = setInterval(() => {
    if (looking || controller.signal.aborted) return;
    looking = true;
    void cancelRequested(stagingDir)
      .then((asked) => {
        if (asked) controller.abort({ kind: 'request' } satisfies StopReason);
      })
      .finally(() => {
        looking = false;
      });
  }, LOOK_MS);
  // The run keeps the process alive, never the looking.
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}
