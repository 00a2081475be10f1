import { mkdir } from 'node:fs/promises';
import { formatDuration } from '../../config/fields.js';
import { ConfigError, UsageError } from '../../errors.js';
import { stringEnv, userName } from '../../exec/env.js';
import { FileTail } from '../../exec/file-tail.js';
import type { Guard } from '../../exec/guard.js';
import { replaceFile } from '../../exec/link-safe.js';
import type { RunOutput } from '../../exec/run-output.js';
import { endAndWait } from '../../exec/streams.js';
import { envFileText } from '../containers/apptainer-env.js';
import { ensureImage } from '../containers/apptainer-image.js';
import { removeEnvFile, type SecretFileTask, writeEnvFile } from '../containers/env-file.js';
import type {
  BackendRunner,
  DetachedPostprocess,
  DetachedRun,
  RunHooks,
  RunJob,
  RunnerDeps,
  RunOutcome,
} from '../contract.js';
import { SlurmArray } from './array.js';
import { slurmCliClient } from './cli-client.js';
import type { SlurmClient } from './client.js';
import type { SlurmConfig } from './config.js';
import { apptainerFileEnv, containerSweep, jobContainers } from './container.js';
import { expandFilename, patternFolder } from './filename.js';
import { follow, type PollClock, RESEND_MS, realClock, STOP_WAIT_MS, settle } from './follow.js';
import { readJobExit } from './job-exit.js';
import { refuseOutputLinks } from './output-links.js';
import {
  postprocessSbatchArgs,
  postprocessScript,
  postprocessScriptPath,
} from './postprocess-job.js';
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
import { FINAL_STATES, type JobState, outcomeOf, signalOf, slurmTime } from './state.js';
import { guardSubmission, type SlurmSubmissionTask } from './submission.js';
import type { SlurmJobTask } from './undo.js';

/** How long a cancelled job that had run may take to show how its script ended. */
const SCRIPT_END_WAIT_MS = 3000;

/**
 * One run as a Slurm batch job: write the script into the staging dir,
 * submit it with sbatch --parsable, follow its state and tail its output,
 * and cancel it (and confirm it is gone) when the run is stopped.
 */
export function createSlurmRunner(
  config: SlurmConfig,
  job: RunJob,
  deps: RunnerDeps<SlurmJobTask | SlurmSubmissionTask | SecretFileTask>,
  // A member of an ensemble's job array submits through the array, and follows its task there.
  client: SlurmClient = deps.batch instanceof SlurmArray
    ? deps.batch.clientFor(config, job)
    : slurmCliClient(stringEnv(deps.env)),
  clock: PollClock = deps.batch instanceof SlurmArray ? deps.batch.clock : realClock,
): BackendRunner {
  const env = stringEnv(deps.env);
  const inArray = deps.batch instanceof SlurmArray;
  // Slurm's %u: the user sbatch runs as, which is this process's.
  const user = userName() ?? env.USER ?? '';
  let image: Promise<string | undefined> | undefined;
  let jobId: string | undefined;
  let finished = false;
  /** Submitted with --detach: the job is let go, with what it needs. */
  let detached = false;
  let unguard = () => {};
  /** Withdraw the env files from the guardian, once removed. */
  const unguardEnvFiles: (() => void)[] = [];
  /** The job reached a final state or left the queue: nothing of it runs on. */
  const ended = () => {
    finished = true;
    unguard();
  };

  /** The final state the stop saw the job in. */
  let endedAs: JobState | undefined;
  /** One stop, whoever asks for it (the abort, then stop()): scancel, then looks until the job has ended. */
  let cancelling: Promise<void> | undefined;
  const cancel = (): Promise<void> => {
    if (jobId === undefined || finished) return Promise.resolve();
    cancelling ??= confirmCancel(jobId);
    return cancelling;
  };
  const confirmCancel = async (id: string) => {
    const until = clock.now() + STOP_WAIT_MS;
    let taken = false;
    let triedAt = Number.NEGATIVE_INFINITY;
    let told = false;
    while (clock.now() < until) {
      // A scancel Slurm did not take (no answer) is sent again, as long as the job may still be stopped.
      if (!taken && clock.now() - triedAt >= RESEND_MS) {
        triedAt = clock.now();
        const answer = await client
          .cancel(id)
          .catch((error: Error) => ({ done: false as const, said: error.message }));
        if (answer.done) taken = true;
        else if (!told) {
          deps.status(`scancel ${id} failed: ${answer.said}`);
          told = true;
        }
      }
      // What scancel said is not the answer; the job's state is. No answer is no end.
      const state = await client.query(id).catch(() => 'no answer' as const);
      if (state === undefined || (state !== 'no answer' && FINAL_STATES.has(state.state))) {
        // How it ended, for a follower that stopped looking at the stop and did not see it.
        if (state !== undefined) endedAs = state;
        ended();
        return;
      }
      await clock.sleep(500);
    }
  };

  /**
   * The end of a cancelled job that had run, once Slurm has its script's
   * status. The controller marks the job CANCELLED (ExitCode 0:0) as it
   * cancels, and learns how the script ended from the node a moment later:
   * a look in between would record no signal. A script that caught the
   * signal and exited 0 keeps 0:0, which is then taken after a short wait.
   */
  const scriptEnd = async (id: string, seen: JobState): Promise<JobState> => {
    const until = clock.now() + SCRIPT_END_WAIT_MS;
    let last = seen;
    while (signalOf(last) === null && !last.exitCode && clock.now() < until) {
      await clock.sleep(250);
      // No answer (a busy controller) is asked again; a job Slurm forgot has said all it will.
      const state = await client.query(id).catch(() => 'no answer' as const);
      if (state === undefined) break;
      if (state !== 'no answer') last = state;
    }
    return last;
  };

  /**
   * Writes the batch script and submits it, with `extraArgs` for sbatch;
   * gives the job's id, or undefined when the run was stopped before sbatch.
   * From here the job is guarded: should this process die, it is cancelled.
   */
  const submit = async (
    signal: AbortSignal,
    extraArgs: string[],
    hooks?: Pick<RunHooks, 'submitted'>,
  ): Promise<string | undefined> => {
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
    await mkdir(patternFolder(outputPattern(config, job)), { recursive: true });
    await mkdir(patternFolder(errorPattern(config, job)), { recursive: true });
    await refuseOutputLinks(outputPattern(config, job), 'output_file');
    await refuseOutputLinks(errorPattern(config, job), 'error_file');
    // Replaced, not written through: a model of an earlier run may have left a link here.
    await replaceFile(script, text, 0o700);
    if (signal.aborted) return undefined;

    // Named in the handle, so that a host whose Slurm is another cluster's does not take the job
    // for gone. Asked before sbatch: between sbatch and the guard, nothing may wait.
    const cluster = await clusterName();
    // Secret values reach the job through sbatch's environment, which only this user and root can read; argv names them only.
    // Guarded while sbatch runs: the job may be the controller's before its id is heard of.
    const submission = guardSubmission(
      inArray ? undefined : deps.guard,
      script,
      containerSweep(config, env),
    );
    const id = await client
      .submit([...extraArgs, ...args], secretEnv(config, deps.env), submission.watch)
      .catch((error: unknown) => {
        submission.release();
        throw error;
      });
    jobId = id;
    const task: SlurmJobTask = {
      kind: 'slurm-job',
      id,
      ...(cluster === undefined ? {} : { cluster }),
      ...jobContainers(config, id, env),
    };
    unguard = deps.guard?.(task) ?? unguard;
    submission.release();
    hooks?.submitted({ ...task });
    deps.status(`submitted batch job ${id} (${jobName(config, job)}); script ${script}`);
    return id;
  };

  // Asked of Slurm once, for the run's job and its postprocess job alike.
  let clusterAnswer: Promise<string | undefined> | undefined;
  const clusterName = () =>
    (clusterAnswer ??= client.cluster?.().catch(() => undefined) ?? Promise.resolve(undefined));

  /**
   * `postprocess_on: node`: the job that runs `postprocess.command` (the
   * run's postprocessing) once the run's job `runJob` has succeeded, its
   * output going to `postprocess.log`, a Slurm filename pattern outside the
   * run dir. A postprocess job that cannot be submitted is said, and its
   * postprocessing left to `modelrun wait`.
   */
  const submitPostprocess = async (
    runJob: string,
    postprocess: DetachedPostprocess,
  ): Promise<DetachedRun['postprocess']> => {
    try {
      await refuseOutputLinks(postprocess.log, 'the postprocess log');
      await replaceFile(
        postprocessScriptPath(job.stagingDir),
        postprocessScript(config, job, postprocess),
        0o700,
      );
      const cluster = await clusterName();
      // Let go with the run (--detach): guarded only while sbatch runs.
      const submission = guardSubmission(deps.guard, postprocessScriptPath(job.stagingDir));
      const id = await client
        .submit(postprocessSbatchArgs(job.stagingDir, runJob), undefined, submission.watch)
        .finally(() => submission.release());
      deps.status(
        `submitted batch job ${id} to postprocess ${job.runId} on a compute node once job ${runJob} has succeeded`,
      );
      const handle: SlurmJobTask = {
        kind: 'slurm-job',
        id,
        ...(cluster === undefined ? {} : { cluster }),
        postprocess: true,
      };
      const values = { jobId: id, jobName: `${jobName(config, job)}-postprocess`, user };
      return {
        handle: { ...handle },
        log: expandFilename(postprocess.log, values) ?? postprocess.log,
      };
    } catch (error) {
      deps.status(
        `warning: the job to postprocess ${job.runId} could not be submitted (${(error as Error).message}); \`modelrun wait\` postprocesses it instead`,
      );
      return undefined;
    }
  };

  return {
    async check() {
      // Every value the batch script and sbatch's arguments hold (the staging dir's path
      // among them) is checked here, before anything is staged or an earlier run moved.
      batchScript(config, job, '', deps.env);
      sbatchArgs(config, job, deps.env);
      refuseBackslashedLogs(config, job);
      await client.check();
    },
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
      const id = await submit(signal, [], hooks);
      if (id === undefined)
        return { exitCode: null, signal: null, reason: 'stopped before the job was submitted' };

      // Named as Slurm names them; a pattern with %N only once the job has its node.
      let batchHost: string | undefined;
      const values = () => ({ jobId: id, jobName: jobName(config, job), user, batchHost });
      const tails = [
        new FileTail(() => expandFilename(outputPattern(config, job), values()), output.stdout),
        new FileTail(() => expandFilename(errorPattern(config, job), values()), output.stderr),
      ];
      const tailAll = () => Promise.all(tails.map((t) => t.poll()));
      /** The job's script has started: a stop then ends it by a signal. */
      let ran = false;
      const onAbort = () => void cancel();
      // Stopped while sbatch was submitting: the job exists now, so it is cancelled at once.
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      // Until the job runs, the run's timeout waits; queue_timeout bounds the wait instead.
      hooks?.waiting();
      const queueTimeout = config.queue_timeout;
      try {
        const { final, expired, abandoned } = await follow({
          id,
          client,
          clock,
          status: deps.status,
          tail: tailAll,
          signal,
          observe: (state) => {
            batchHost = state.batchHost ?? batchHost;
            // Requeued (or suspended), the job waits again and its timeout with it.
            const since = slurmTime(state.startTime);
            if (state.state === 'RUNNING') {
              ran = true;
              hooks?.started(since);
            } else if (!ran && since !== undefined && FINAL_STATES.has(state.state)) {
              // Begun and ended between two looks (a short task): it ran, from Slurm's StartTime.
              ran = true;
              hooks?.started(since);
            } else hooks?.waiting();
          },
          ...(queueTimeout === undefined
            ? {}
            : {
                queueTimeoutMs: queueTimeout * 1000,
                // Only while it is still PENDING, which the controller decides: a job
                // that starts in the meantime runs on, and the next look sees it.
                onQueueTimeout: () =>
                  void client
                    .cancel(id, { onlyPending: true })
                    .catch((error: Error) => deps.status(`scancel ${id} failed: ${error.message}`)),
              }),
        });
        // Slurm never said the job ended: it stays the run's, a leftover to cancel by hand.
        if (abandoned === undefined) ended();
        else
          deps.status(
            `job ${id} had not ended ${STOP_WAIT_MS / 1000} s after the stop (${abandoned}); it may still run: see \`squeue -j ${id}\`, cancel it with \`scancel ${id}\``,
          );
        await settle(tailAll, clock);
        await Promise.all([endAndWait(output.stdout), endAndWait(output.stderr)]);
        const details = { job_id: id };
        // Cancelled by modelrun itself: the stop reason (timeout, interrupt) says why, not the job
        // state; the model did not exit on its own, so there is no exit code.
        if (signal.aborted) {
          // The stop may have seen the end the follower left before.
          await cancelling;
          let seen = final ?? endedAs;
          // A task of an array is looked at by the array, which stops looking once every task ended.
          if (ran && seen !== undefined && !inArray) seen = await scriptEnd(id, seen);
          return { exitCode: null, signal: seen === undefined ? null : signalOf(seen), details };
        }
        if (expired !== undefined && queueTimeout !== undefined) {
          return {
            exitCode: null,
            signal: null,
            reason: `job ${id} still PENDING (${expired.reason ?? 'waiting'}) after queue_timeout ${formatDuration(queueTimeout)}; cancelled`,
            timedOut: true,
            details,
          };
        }
        if (final !== undefined) return { ...outcomeOf(final), details };
        // Gone from the queue unseen: its script kept the command's exit status, unless it was killed.
        const kept = await readJobExit(job.stagingDir, id);
        return kept === undefined
          ? {
              exitCode: null,
              signal: null,
              reason: `job ${id} left the queue before modelrun saw how it ended, and there is no accounting database to ask`,
              details,
            }
          : { exitCode: kept, signal: null, details };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    detach: {
      check() {
        const problem = detachProblem(config, job);
        if (problem !== undefined)
          throw new UsageError(`--detach: ${problem.what}`, { hint: problem.hint });
      },
      async submit(signal, hooks, postprocess) {
        // The job's own limit holds the timeout, as no modelrun follows it (Slurm counts whole minutes).
        const limit =
          config.timeout === undefined ? [] : [`--time=${slurmMinutes(config.timeout)}`];
        const id = await submit(signal, limit, hooks);
        if (id === undefined) return undefined;
        // Submitted while the run's job is still guarded: stopped meanwhile, the
        // run's job is cancelled, and Slurm cancels the postprocess job with it.
        const after =
          postprocess === undefined || config.postprocess_on !== 'node' || signal.aborted
            ? undefined
            : await submitPostprocess(id, postprocess);
        // Stopped while sbatch was submitting: the job is cancelled, not let go.
        if (signal.aborted) {
          await cancel();
          return undefined;
        }
        // The job is let go: no guardian cancels it, and stop() leaves it, and its container's env file, be.
        detached = true;
        finished = true;
        unguard();
        for (const withdraw of unguardEnvFiles.splice(0)) withdraw();
        const values = { jobId: id, jobName: jobName(config, job), user };
        return {
          logs: {
            stdout:
              expandFilename(outputPattern(config, job), values) ?? outputPattern(config, job),
            stderr: expandFilename(errorPattern(config, job), values) ?? errorPattern(config, job),
          },
          ...(after === undefined ? {} : { postprocess: after }),
        };
      },
    },

    async stop() {
      await cancel();
      // Read when the job's container started; once the job has ended, no longer needed.
      if ((finished && !detached) || jobId === undefined) {
        await removeEnvFile(envFilePath(job.stagingDir));
        for (const withdraw of unguardEnvFiles.splice(0)) withdraw();
      }
    },
  };
}

/** Seconds as sbatch's `minutes:seconds`, which Slurm rounds up to the minute as it does time_limit. */
function slurmMinutes(seconds: number): string {
  const whole = Math.ceil(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** Why a config cannot run detached, with what to do: what only a modelrun that follows the job could do. */
function detachProblem(
  config: SlurmConfig,
  job: RunJob,
): { what: string; hint: string } | undefined {
  if (config.queue_timeout !== undefined)
    return {
      what: 'queue_timeout needs a modelrun that watches the queue, and a detached run has none',
      hint: 'leave queue_timeout out of the backend config (the job then waits in the queue until it runs), or run without --detach',
    };
  const files = [
    [outputPattern(config, job), 'output_file'],
    [errorPattern(config, job), 'error_file'],
  ] as const;
  for (const [pattern, field] of files)
    if (/%\d*N/.test(pattern.replaceAll('%%', '')))
      return {
        what: `${field} names the job's node (%N), known only once the job runs, so \`modelrun logs\` and \`wait\` could not find the output`,
        hint: `leave %N out of ${field}, or run without --detach`,
      };
  return undefined;
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

/**
 * A backslash anywhere in --output or --error turns Slurm's filename
 * patterns off and is dropped from the name: the default logs of a staging
 * dir whose path holds one would be written to another folder.
 */
function refuseBackslashedLogs(config: SlurmConfig, job: RunJob): void {
  if (!job.stagingDir.includes('\\')) return;
  if (config.output_file !== undefined && config.error_file !== undefined) return;
  throw new ConfigError(
    `the staging directory ${job.stagingDir} holds a backslash, which Slurm drops from the job's output and error file names: they would be written to another folder`,
    {
      hint: 'give the run an output_dir whose path has no backslash, or set output_file and error_file',
    },
  );
}
