import { join } from 'node:path';
import type {
  BackendConfig,
  BackendRunner,
  DetachedPostprocess,
  DetachedRun,
  RunOutcome,
} from '../backends/contract.js';
import { asRunFailure } from '../errors.js';
import { setLongTimeout } from '../exec/long-timer.js';
import { createRunOutput } from '../exec/run-output.js';
import { describeStop, isCancel, type StopReason } from '../exec/stop-reason.js';
import type { RunRecord, RunStatus } from '../model/run-record.js';
import type { Holdings } from './holdings.js';
import type { PipelineDeps } from './pipeline.js';
import type { RecordWriter } from './record-writer.js';

export interface ModelRunResult {
  status: RunStatus;
  stop?: StopReason;
  stderrTail: string[];
}

/**
 * Runs the model on its backend with the run's timeout, logs and live echo.
 * The backend is stopped whatever happens; an interrupt or the timeout
 * aborts the run, which then still reports how the model ended.
 */
export async function runModel(
  runner: BackendRunner,
  backend: BackendConfig,
  record: RunRecord,
  writer: RecordWriter,
  deps: PipelineDeps,
  holdings: Holdings,
): Promise<ModelRunResult> {
  // Before anything starts: logs that cannot be kept safely stop the run here.
  const handle = await createRunOutput({
    ...(backend.capture_output === false ? {} : { logDir: join(record.staging_dir, 'logs') }),
    ...(backend.stream_output === false ? {} : { echo: deps.terminal }),
  }).catch((error: unknown) => {
    throw asRunFailure(error);
  });
  const stage = { status: 'running' as const, started_at: new Date().toISOString() };
  record.stages.run = stage;
  const undo = deps.cleanup.defer(
    () => runStep(backend, holdings),
    () => runner.stop(),
  );
  // The queue state goes on record as it changes, for `modelrun status` in another shell.
  const setStatus = (status: 'submitted' | 'running', at?: Date) => {
    if (record.status === status) return;
    record.status = status;
    void writer.update(deps.status);
    deps.observe?.(at === undefined ? { status } : { status, at: at.toISOString() });
  };
  const stopper = new AbortController();
  const clock = timeoutClock(deps.timeoutMs ?? secondsToMs(backend.timeout), stopper);
  clock.start();
  const onInterrupt = () => stopper.abort(deps.signal.reason);
  if (deps.signal.aborted) onInterrupt();
  else deps.signal.addEventListener('abort', onInterrupt, { once: true });

  let outcome: RunOutcome;
  try {
    await runner.start(stopper.signal);
    deps.status(`running ${record.run_id} on ${backend.type}`);
    outcome = await runner.run(handle.output, stopper.signal, {
      waiting: () => {
        clock.stop();
        setStatus('submitted');
      },
      started: (at) => {
        clock.start();
        setStatus('running', at);
      },
      submitted: (runHandle) => {
        record.handle = runHandle;
        // Told once run.json holds it: a `run --detach` that hears of the start
        // this way (<log>.started) then finds the handle in the record too.
        void writer.update(deps.status).then(() => deps.observe?.({ handle: runHandle }));
      },
    });
  } catch (error) {
    // Stopped while the image was pulled or built, or before the model began:
    // that is the timeout or the interrupt, not a failure of the pull.
    if (!stopper.signal.aborted) {
      record.stages.run = {
        ...stage,
        status: 'failed',
        ended_at: new Date().toISOString(),
        detail: (error as Error).message,
      };
      throw error;
    }
    outcome = { exitCode: null, signal: null };
  } finally {
    clock.end();
    deps.signal.removeEventListener('abort', onInterrupt);
    await runner.stop();
    undo();
    await handle.close();
  }

  record.exit_code = outcome.exitCode;
  if (outcome.signal !== null) record.signal = outcome.signal;
  if (outcome.reason !== undefined) record.reason = outcome.reason;
  if (outcome.details !== undefined) record.backend.details = outcome.details;
  const stop = stopper.signal.aborted ? (stopper.signal.reason as StopReason) : undefined;
  const status: RunStatus =
    stop?.kind === 'timeout' || (stop === undefined && outcome.timedOut === true)
      ? 'timed_out'
      : isCancel(stop)
        ? 'cancelled'
        : outcome.exitCode === 0 && outcome.signal === null && outcome.reason === undefined
          ? 'succeeded'
          : 'failed';
  record.stages.run = {
    ...stage,
    status: status === 'succeeded' || status === 'cancelled' ? status : 'failed',
    ended_at: new Date().toISOString(),
    detail: describeOutcome(outcome, stop),
  };
  return { status, ...(stop === undefined ? {} : { stop }), stderrTail: handle.stderrTail() };
}

/**
 * Submits the model to go on alone (`run --detach`): the handle goes on
 * record, and the run stage stays running, for whoever sees its end. Gives
 * where the engine writes the output, or undefined when the run was stopped
 * before anything was let go.
 */
export async function submitModel(
  runner: BackendRunner,
  backend: BackendConfig,
  record: RunRecord,
  deps: PipelineDeps,
  holdings: Holdings,
  postprocess?: DetachedPostprocess,
): Promise<DetachedRun | undefined> {
  const detach = runner.detach;
  if (detach === undefined) throw new Error(`the ${backend.type} backend cannot detach a run`);
  record.stages.run = { status: 'running', started_at: new Date().toISOString() };
  const undo = deps.cleanup.defer(
    () => runStep(backend, holdings),
    () => runner.stop(),
  );
  try {
    await runner.start(deps.signal);
    deps.status(`submitting ${record.run_id} to ${backend.type}, to go on without modelrun`);
    return await detach.submit(
      deps.signal,
      {
        submitted: (handle) => {
          record.handle = handle;
        },
      },
      postprocess,
    );
  } finally {
    await runner.stop();
    undo();
  }
}

/** The cleanup step of a run, named with what it holds: "the slurm run: slurm job 12 (scancel 12)". */
function runStep(backend: BackendConfig, holdings: Holdings): string {
  const held = holdings.leftovers();
  return `the ${backend.type} run${held.length > 0 ? `: ${held.join(', ')}` : ''}`;
}

/** "exited 3", "killed by SIGKILL", "timed out after 60 s", or the backend's own reason. */
export function describeOutcome(outcome: RunOutcome, stop: StopReason | undefined): string {
  if (stop !== undefined) return describeStop(stop);
  if (outcome.reason !== undefined) return outcome.reason;
  if (outcome.signal !== null) return `killed by ${outcome.signal}`;
  return `exited ${outcome.exitCode}`;
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

/**
 * The run's timeout, which a backend may stop while its model waits for
 * resources and start afresh when the model runs (RunHooks). Starting it
 * while it runs changes nothing: a backend may say "started" at every look.
 * No timeout given: it never fires.
 */
function timeoutClock(timeoutMs: number | undefined, stopper: AbortController) {
  let cancel: (() => void) | undefined;
  let ended = false;
  const stop = () => {
    cancel?.();
    cancel = undefined;
  };
  return {
    start() {
      if (cancel !== undefined) return;
      if (timeoutMs === undefined || ended || stopper.signal.aborted) return;
      cancel = setLongTimeout(
        () => stopper.abort({ kind: 'timeout', seconds: timeoutMs / 1000 } satisfies StopReason),
        timeoutMs,
      );
    },
    stop,
    end() {
      ended = true;
      stop();
    },
  };
}
