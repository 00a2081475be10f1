import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../../config/fields.js';
import { stringEnv, userName } from '../../exec/env.js';
import { FileTail } from '../../exec/file-tail.js';
import type { Guard } from '../../exec/guard.js';
import { replaceFile } from '../../exec/link-safe.js';
import type { RunOutput } from '../../exec/run-output.js';
import { endAndWait } from '../../exec/streams.js';
import { ensureImage } from '../apptainer/image.js';
import { envFileText } from '../containers/apptainer-exec.js';
import { removeEnvFile, type SecretFileTask, writeEnvFile } from '../containers/env-file.js';
import type { BackendRunner, RunHooks, RunJob, RunnerDeps, RunOutcome } from '../contract.js';
import { checkSlurm, slurmCommand, slurmFailure } from './cli.js';
import type { SlurmConfig } from './config.js';
import { apptainerFileEnv, jobContainers } from './container.js';
import { expandFilename } from './filename.js';
import { refuseOutputLinks } from './output-links.js';
import {
  batchScript,
  containerAsApptainer,
  containerCommand,
  envFilePath,
  errorPattern,
  jobCommand,
  jobName,
  outputPattern,
  sbatchArgs,
  scriptPath,
  secretEnv,
} from './script.js';
import { FINAL_STATES, type JobState, outcomeOf, readJobState, signalOf } from './state.js';
import type { SlurmJobTask } from './undo.js';

/** Polling starts quick and slows down, but never waits longer than this between looks. */
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5000;
/** How often the job's output files are read while it runs. */
const TAIL_MS = 250;

/**
 * One run as a Slurm batch job: write the script into the staging dir,
 * submit it with sbatch --parsable, follow its state and tail its output,
 * and cancel it (and confirm it is gone) when the run is stopped.
 */
export function createSlurmRunner(
  config: SlurmConfig,
  job: RunJob,
  deps: RunnerDeps<SlurmJobTask | SecretFileTask>,
): BackendRunner {
  const env = stringEnv(deps.env);
  // Slurm's %u: the user sbatch runs as, which is this process's.
  const user = userName() ?? env.USER ?? '';
  let image: Promise<string | undefined> | undefined;
  let jobId: string | undefined;
  let finished = false;
  let unguard = () => {};
  /** Withdraw the env files from the guardian, once removed. */
  const unguardEnvFiles: (() => void)[] = [];
  /** The job reached a final state or left the queue: nothing of it runs on. */
  const ended = () => {
    finished = true;
    unguard();
  };

  const cancel = async () => {
    if (jobId === undefined || finished) return;
    await slurmCommand('scancel', [jobId], env);
    // Confirm: a job is gone once it reached a final state or left the queue.
    for (let waited = 0; waited < 60_000; waited += 500) {
      const state = await readJobState(jobId, env);
      if (state === undefined || FINAL_STATES.has(state.state)) {
        ended();
        return;
      }
      await sleep(500);
    }
  };

  return {
    check: () => checkSlurm(env),
    start(signal: AbortSignal) {
      // An apptainer image is pulled or built here, on the submit host, into a cache the nodes share.
      const apptainer = containerAsApptainer(config);
      image ??=
        apptainer === undefined
          ? Promise.resolve(undefined)
          : ensureImage(apptainer, { env, status: deps.status, signal });
      return image.then(() => undefined);
    },

    async run(output: RunOutput, signal: AbortSignal, hooks?: RunHooks): Promise<RunOutcome> {
      const resolved = await (image ?? Promise.reject(new Error('start() must come before run()')));
      const script = scriptPath(job.stagingDir);
      // Before anything is written: a value the script cannot hold, or an
      // --export that cannot carry the secrets, fails here.
      const args = sbatchArgs(config, job, deps.env);
      const text = batchScript(
        config,
        job,
        jobCommand(config, job, containerCommand(config, job, resolved)),
        deps.env,
      );
      unguardEnvFiles.push(await writeContainerEnv(config, job, deps.guard));
      await mkdir(dirname(outputPattern(config, job)), { recursive: true });
      await mkdir(dirname(errorPattern(config, job)), { recursive: true });
      await refuseOutputLinks(outputPattern(config, job), 'output_file');
      await refuseOutputLinks(errorPattern(config, job), 'error_file');
      // Replaced, not written through: a model of an earlier run may have left a link here.
      await replaceFile(script, text, 0o700);
      if (signal.aborted)
        return { exitCode: null, signal: null, reason: 'stopped before the job was submitted' };

      // Secret values reach the job through sbatch's environment, which only this user and root can read; argv names them only.
      const submitted = await slurmCommand('sbatch', args, {
        ...env,
        ...secretEnv(config, deps.env),
      });
      if (submitted.code !== 0) throw slurmFailure('sbatch', submitted);
      const id = submitted.stdout.trim().split(';')[0] ?? '';
      jobId = id;
      unguard =
        deps.guard?.({ kind: 'slurm-job', id, ...jobContainers(config, id, env) }) ?? unguard;
      deps.status(`submitted batch job ${id} (${jobName(config, job)}); script ${script}`);

      // Named as Slurm names them; a pattern with %N only once the job has its node.
      let batchHost: string | undefined;
      const values = () => ({ jobId: id, jobName: jobName(config, job), user, batchHost });
      const tails = [
        new FileTail(() => expandFilename(outputPattern(config, job), values()), output.stdout),
        new FileTail(() => expandFilename(errorPattern(config, job), values()), output.stderr),
      ];
      const tailAll = () => Promise.all(tails.map((t) => t.poll()));
      const onAbort = () =>
        void cancel().catch((error: Error) =>
          deps.status(`scancel ${id} failed: ${error.message}`),
        );
      // Stopped while sbatch was submitting: the job exists now, so it is cancelled at once.
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      // Until the job runs, the run's timeout waits; queue_timeout bounds the wait instead.
      hooks?.waiting();
      const queueTimeout = config.queue_timeout;
      try {
        const { final, expired } = await follow({
          id,
          env,
          status: deps.status,
          tail: tailAll,
          signal,
          observe: (state) => {
            batchHost = state.batchHost ?? batchHost;
            // Requeued (or suspended), the job waits again and its timeout with it.
            if (state.state === 'RUNNING') hooks?.started();
            else hooks?.waiting();
          },
          ...(queueTimeout === undefined
            ? {}
            : {
                queueTimeoutMs: queueTimeout * 1000,
                // Only while it is still PENDING, which the controller decides: a job
                // that starts in the meantime runs on, and the next look sees it.
                onQueueTimeout: () =>
                  void slurmCommand('scancel', ['--state=PENDING', id], env).catch((error: Error) =>
                    deps.status(`scancel ${id} failed: ${error.message}`),
                  ),
              }),
        });
        ended();
        await settle(tailAll);
        await Promise.all([endAndWait(output.stdout), endAndWait(output.stderr)]);
        const details = { job_id: id };
        // Cancelled by modelrun itself: the stop reason (timeout, interrupt) says why, not the job
        // state; the model did not exit on its own, so there is no exit code.
        if (signal.aborted)
          return { exitCode: null, signal: final === undefined ? null : signalOf(final), details };
        if (expired !== undefined && queueTimeout !== undefined) {
          return {
            exitCode: null,
            signal: null,
            reason: `job ${id} still PENDING (${expired.reason ?? 'waiting'}) after queue_timeout ${formatDuration(queueTimeout)}; cancelled`,
            timedOut: true,
            details,
          };
        }
        return final === undefined
          ? {
              exitCode: null,
              signal: null,
              reason: `job ${id} left the queue before modelrun saw how it ended, and there is no accounting database to ask`,
              details,
            }
          : { ...outcomeOf(final), details };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    async stop() {
      await cancel();
      // Read when the job's container started; once the job has ended, no longer needed.
      if (finished || jobId === undefined) {
        await removeEnvFile(envFilePath(job.stagingDir));
        for (const withdraw of unguardEnvFiles.splice(0)) withdraw();
      }
    },

    leftovers() {
      return jobId !== undefined && !finished ? [`slurm job ${jobId} (scancel ${jobId})`] : [];
    },
  };
}

interface FollowOptions {
  id: string;
  env: Record<string, string>;
  status: (line: string) => void;
  tail: () => Promise<unknown>;
  signal: AbortSignal;
  observe: (state: JobState) => void;
  /** How long the job may stay PENDING; then onQueueTimeout cancels it. */
  queueTimeoutMs?: number;
  onQueueTimeout?: () => void;
}

/**
 * Follows the job until it reaches a final state: PENDING with its reason,
 * RUNNING on its nodes, then the end. Looks quickly at first and then less
 * often, never more than MAX_POLL_MS apart, and tails the output between.
 * `expired` is the PENDING state the job was in when queue_timeout ran out.
 */
async function follow(
  options: FollowOptions,
): Promise<{ final: JobState | undefined; expired?: JobState }> {
  const { id, env, status, tail, signal, observe, queueTimeoutMs, onQueueTimeout } = options;
  const queuedUntil = queueTimeoutMs === undefined ? undefined : Date.now() + queueTimeoutMs;
  let expired: JobState | undefined;
  /** The job has run: queue_timeout bounds only the wait before its first start. */
  let ran = false;
  let interval = FIRST_POLL_MS;
  let nextPoll = 0;
  let last = '';
  let seen: JobState | undefined;
  const result = (final: JobState | undefined) => ({
    final,
    ...(expired === undefined ? {} : { expired }),
  });
  for (;;) {
    if (Date.now() >= nextPoll) {
      const state = await readJobState(id, env);
      if (state === undefined)
        return result(seen !== undefined && FINAL_STATES.has(seen.state) ? seen : undefined);
      seen = state;
      observe(state);
      if (state.state === 'RUNNING') {
        ran = true;
        // queue_timeout ran out as the job started: scancel --state=PENDING spared it.
        expired = undefined;
      }
      const line = describeState(id, state);
      if (line !== last) {
        status(line);
        last = line;
        interval = FIRST_POLL_MS;
      } else {
        interval = Math.min(interval * 1.5, MAX_POLL_MS);
      }
      if (FINAL_STATES.has(state.state)) return result(state);
      if (
        expired === undefined &&
        !ran &&
        !signal.aborted &&
        state.state === 'PENDING' &&
        queuedUntil !== undefined &&
        Date.now() >= queuedUntil
      ) {
        expired = state;
        onQueueTimeout?.();
      }
      nextPoll = Date.now() + interval;
    }
    await tail();
    // After a cancel, keep looking until the job is really gone, but at once.
    const cancelling = signal.aborted || expired !== undefined;
    // Waiting for queue_timeout: look again when it runs out, not up to MAX_POLL_MS later.
    if (queuedUntil !== undefined && expired === undefined && !ran)
      nextPoll = Math.min(nextPoll, Math.max(queuedUntil, Date.now()));
    await sleep(cancelling ? Math.min(TAIL_MS, interval) : TAIL_MS);
  }
}

function describeState(id: string, state: JobState): string {
  if (state.state === 'PENDING') return `job ${id} PENDING (${state.reason ?? 'waiting'})`;
  if (state.state === 'RUNNING') return `job ${id} RUNNING on ${state.nodes ?? 'its node'}`;
  return `job ${id} ${state.state}`;
}

/** Reads the output files until they stop growing: a shared filesystem may show the last lines late. */
async function settle(tail: () => Promise<number[]>): Promise<void> {
  let quiet = 0;
  for (let round = 0; round < 20 && quiet < 2; round++) {
    const read = (await tail()).reduce((a, b) => a + b, 0);
    quiet = read === 0 ? quiet + 1 : 0;
    if (quiet < 2) await sleep(100);
  }
}

/**
 * An apptainer container in the job reads its own defaults from a file only
 * the user can read; env_vars, docker's too, go to the container by name
 * from the job's environment, and are in no file.
 */
async function writeContainerEnv(
  config: SlurmConfig,
  job: RunJob,
  guard?: Guard<SecretFileTask>,
): Promise<() => void> {
  const apptainer = containerAsApptainer(config);
  if (apptainer === undefined) return () => {};
  return writeEnvFile(envFilePath(job.stagingDir), envFileText(apptainerFileEnv(apptainer)), guard);
}
