import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBackend } from '../backends/registry.js';
import { RunFailedError, UsageError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import { readOwnFile } from '../exec/link-safe.js';
import { identify, type ProcessIdentity, presence, sameProcess } from '../exec/process-identity.js';
import { visibleName } from '../exec/visible-name.js';
import {
  DETACHED_OVERRIDES_VARIABLE,
  DETACHED_STARTED_VARIABLE,
  DETACHED_VARIABLE,
} from '../handover.js';
import type { LoadedRun } from '../load/run-request.js';
import { isUnderway, RUN_RECORD_PATH, type RunRecord, readRunRecord } from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { PACKAGE_ROOT } from '../package-info.js';
import { executeRun } from '../run/execute-run.js';
import { writeDetachedEntry } from '../runs/detached-entry.js';
import { copyLog, openLog, writingTo } from '../runs/log-reader.js';
import { stateFolder } from '../runs/state-folder.js';
import { newSupervisorLog } from '../runs/supervisor-log.js';
import type { RunOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { type LayerFlagValues, overridesOf } from './layering-flags.js';
import { cliRunDeps } from './run-execute.js';
import { printSummary } from './run-report.js';

/** How much --set text a supervisor is handed in its environment: under one variable's limit. */
const MAX_HANDED_OVER = 96 * 1024;

/** Backends whose detached runs a supervisor on this machine follows; the others' engines keep the run alone. */
const SUPERVISED = ['local', 'docker', 'apptainer'];

/** Whether a detached run of this backend needs a supervisor on this machine. */
export function isSupervised(run: LoadedRun): boolean {
  return SUPERVISED.includes(run.backend.type);
}

/**
 * `run --detach`: starts a supervisor, a `modelrun run` of the same files in
 * a session of its own with no terminal, which stages the run, runs it,
 * enforces its timeout, postprocesses and records it, whatever becomes of
 * this terminal. This returns once the model has started (its handle is on
 * record), showing the supervisor's progress until then; its later lines go
 * to its own log file.
 */
export async function detachRun(
  options: RunOptions,
  run: LoadedRun,
  ctx: CommandContext,
): Promise<number> {
  const { output } = ctx;
  const stagingDir = stagingDirOf(run.model);
  const { supervisor, log, exit } = startSupervisor(
    supervisorArgs(options, ctx.cwd),
    options,
    run.model.run_id,
    ctx,
    (log) => ({ [DETACHED_STARTED_VARIABLE]: startReportOf(log) }),
  );
  output.status(
    `started modelrun (pid ${supervisor.pid}) to run ${run.model.run_id} in the background; its own log: ${log}`,
  );

  // Until the model has started: what the supervisor says is shown here too.
  const backend = findBackend(run.backend.type);
  const started = await untilStarted(stagingDir, supervisor, log, ctx, {
    readable: (handle) => backend?.handle.readable(handle) === true,
  });
  if (started.kind === 'exited') {
    const ended: { how: string; code?: number } = await Promise.race([
      exit,
      sleep(1000).then(() => ({ how: 'an unknown end' })),
    ]);
    output.error(
      `the supervisor ended (${ended.how}) before the model started${started.record === undefined ? '; its log is above' : `: ${started.record.status}${started.record.reason === undefined ? '' : `: ${started.record.reason}`}`}`,
    );
    // Its own exit code, a config error's 2 among them; 1 when it had none to give.
    return ended.code !== undefined && ended.code !== 0 ? ended.code : 1;
  }
  printDetached(
    {
      run_dir: stagingDir,
      run_id: run.model.run_id,
      supervisor: { pid: supervisor.pid, log },
      ...(started.handle === undefined ? {} : { handle: started.handle }),
    },
    `${run.backend.type}${started.kind === 'interrupted' ? ' (still starting)' : ''}`,
    options.json,
    ctx,
  );
  return 0;
}

/**
 * `run --detach` on a backend whose engine keeps the run alone (a Slurm
 * job): this process stages the run and submits it, then exits, leaving
 * nothing behind on this machine. Whoever looks at the run later (`status`,
 * `wait`) records its end; `wait` also postprocesses.
 */
export async function submitDetached(
  options: RunOptions,
  run: LoadedRun,
  ctx: CommandContext,
): Promise<number> {
  const { session, output } = ctx;
  const absolute = (file: string) => resolve(ctx.cwd, file);
  // Before anything is submitted: a state folder that cannot keep the entry stops the run here.
  stateFolder(ctx.env, 'detached-runs', 'a detached run keeps what finishing it needs');
  const done = session.begin();
  let result: Awaited<ReturnType<typeof executeRun>>;
  try {
    result = await executeRun(
      {
        ...run,
        dryRun: false,
        skipGenerate: options.skipGenerate,
        postprocess: options.postprocess,
        cleanupOnFailure: false,
      },
      {
        ...cliRunDeps(ctx, ctx.terminal),
        detach: true,
        // For an engine that postprocesses the run itself: this modelrun, as this process runs it.
        detachedPostprocess: {
          command: [
            process.execPath,
            join(PACKAGE_ROOT, 'bin', 'modelrun.js'),
            'wait',
            stagingDirOf(run.model),
          ],
          // Out of the run dir, where a model could put a link in the way of the job's output.
          log: join(
            stateFolder(ctx.env, 'detached', "--detach keeps the postprocess job's log"),
            `${run.model.run_id}-postprocess-%j.log`,
          ),
        },
      },
    );
  } finally {
    done();
  }
  const { record } = result;
  if (record.status !== 'submitted' || record.handle === undefined) {
    printSummary(result, output, options.json);
    return result.exitCode;
  }
  // Out of the model's reach: the files whose postprocessors `wait` runs.
  await writeDetachedEntry(ctx.env, {
    run_dir: record.staging_dir,
    run_id: record.run_id,
    started_at: record.started_at,
    backend: record.backend.type,
    handle: record.handle,
    ...(record.detached?.postprocess === undefined
      ? {}
      : { postprocess_job: record.detached.postprocess.handle }),
    ...(record.detached === undefined ? {} : { logs: record.detached.logs }),
    files: {
      model: absolute(options.modelFile),
      ...(options.backendConfig === undefined ? {} : { backend: absolute(options.backendConfig) }),
      postprocessors: options.postprocessorConfigs.map(absolute),
      overrides: overridesOf(options)
        .filter((override) => !override.secret)
        .map((override) => [override.flag, override.text]),
      ...(options.siteConfig ? {} : { site_config: false }),
    },
  }).catch((error: Error) =>
    output.warn(
      `the files ${record.run_id} was made from could not be kept for \`modelrun wait\` (${error.message}); postprocess it by hand once it has ended`,
    ),
  );
  printDetached(
    {
      run_dir: record.staging_dir,
      run_id: record.run_id,
      handle: record.handle,
      ...(record.detached === undefined ? {} : { logs: record.detached.logs }),
      ...(record.detached?.postprocess === undefined
        ? {}
        : { postprocess: record.detached.postprocess }),
    },
    run.backend.type,
    options.json,
    ctx,
  );
  return 0;
}

/** What a detached run is, and how to follow, wait for and stop it: as text, or as JSON. */
function printDetached(
  shown: {
    run_dir: string;
    run_id: string;
    handle?: RunHandle;
    supervisor?: { pid: number; log: string };
    logs?: { stdout: string; stderr: string };
    postprocess?: { handle: RunHandle; log: string };
  },
  on: string,
  json: boolean,
  { output }: CommandContext,
): void {
  if (json) {
    output.raw(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  output.result(`detached ${shown.run_id} on ${on}`);
  output.result(`  run dir   ${shown.run_dir}`);
  if (shown.handle !== undefined) output.result(`  handle    ${describeHandle(shown.handle)}`);
  if (shown.supervisor !== undefined)
    output.result(`  modelrun  pid ${shown.supervisor.pid}, log ${shown.supervisor.log}`);
  if (shown.logs !== undefined) output.result(`  output    ${shown.logs.stdout}`);
  if (shown.postprocess !== undefined)
    output.result(
      `  then      ${describeHandle(shown.postprocess.handle)} postprocesses it once it has succeeded; log ${shown.postprocess.log}`,
    );
  output.result(`  follow    modelrun logs -f ${shown.run_dir}`);
  output.result(`  wait      modelrun wait ${shown.run_dir}`);
  output.result(`  stop      modelrun cancel ${shown.run_dir}`);
}

/** The same run, as the supervisor is to make it: absolute paths, no --detach. */
function supervisorArgs(options: RunOptions, cwd: string): string[] {
  return [
    'run',
    resolve(cwd, options.modelFile),
    ...(options.skipGenerate ? ['--skip-generate'] : []),
    ...handedFlags(options, cwd),
  ];
}

/**
 * The flags a supervisor is handed as they were given, with paths made
 * absolute: the backend and postprocessor files, --no-postprocess,
 * --no-site-config. (The overrides go in its environment: handOver.)
 */
export function handedFlags(
  options: {
    backendConfig?: string | undefined;
    postprocessorConfigs: string[];
    postprocess: boolean;
    siteConfig: boolean;
  },
  cwd: string,
): string[] {
  return [
    ...(options.backendConfig === undefined
      ? []
      : ['--backend-config', resolve(cwd, options.backendConfig)]),
    ...options.postprocessorConfigs.flatMap((file) => [
      '--postprocessor-config',
      resolve(cwd, file),
    ]),
    ...(options.postprocess ? [] : ['--no-postprocess']),
    ...(options.siteConfig ? [] : ['--no-site-config']),
  ];
}

/**
 * Starts a supervisor: modelrun with `args`, in a session of its own with no
 * terminal, its output in a new log in the state folder, and the overrides
 * of `flags` in its environment (handOver); `env` adds to that environment,
 * given the log. Gives it by its whole identity (a pid alone may be an
 * earlier run's owner's), its log, and how it ends.
 */
export function startSupervisor(
  args: string[],
  flags: LayerFlagValues,
  name: string,
  ctx: Pick<CommandContext, 'env' | 'cwd'>,
  env: (log: string) => NodeJS.ProcessEnv = () => ({}),
): { supervisor: ProcessIdentity; log: string; exit: Promise<{ how: string; code?: number }> } {
  const handedOver = handOver(flags);
  const log = newSupervisorLog(ctx.env, name);
  const fd = openSync(log, 'wx', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'modelrun.js'), ...args], {
      cwd: ctx.cwd,
      // The overrides go in the environment, which only this user can read: one may hold a secret.
      env: {
        ...ctx.env,
        [DETACHED_VARIABLE]: '1',
        [DETACHED_OVERRIDES_VARIABLE]: handedOver,
        ...env(log),
      },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  child.on('error', () => undefined);
  const exit = new Promise<{ how: string; code?: number }>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(
        signal === null && code !== null
          ? { how: `exit code ${code}`, code }
          : { how: `killed by ${signal}` },
      ),
    ),
  );
  child.unref();
  const supervisor = child.pid === undefined ? undefined : identify(child.pid);
  if (supervisor === undefined)
    throw new RunFailedError('the supervisor could not be started', { hint: `see ${log}` });
  return { supervisor, log, exit };
}

/**
 * The command line's overrides as a supervisor is handed them, in its
 * environment (DETACHED_OVERRIDES_VARIABLE): refused when they would not fit.
 */
function handOver(flags: LayerFlagValues): string {
  const handedOver = JSON.stringify(
    overridesOf(flags).map((override) => [override.flag, override.text]),
  );
  // One environment variable holds at most 128 KiB on Linux (MAX_ARG_STRLEN).
  if (handedOver.length > MAX_HANDED_OVER)
    throw new UsageError(
      `the --set values are ${Math.ceil(handedOver.length / 1024)} KiB together, more than a detached run can be handed (${MAX_HANDED_OVER / 1024} KiB)`,
      {
        hint: 'put the larger values in a file of your own that extends the model, and --set only the small ones',
      },
    );
  return handedOver;
}

type Started =
  | { kind: 'started' | 'interrupted'; handle?: RunHandle }
  | { kind: 'exited'; record?: RunRecord };

/**
 * Waits until the supervisor's run has its handle on record, has ended, or
 * the supervisor has gone. `readable` says whether a handle reported beside
 * the log is one the run's backend could have written: that file is in reach
 * of the model too (its path is in the supervisor's environment). `alive`
 * looks at the supervisor (a test's fake stands in for /proc).
 */
export async function untilStarted(
  stagingDir: string,
  supervisor: ProcessIdentity,
  log: string,
  ctx: Pick<CommandContext, 'terminal' | 'session'>,
  {
    readable,
    alive = (named: ProcessIdentity) => presence(named) === 'alive',
  }: {
    readable: (handle: RunHandle) => boolean;
    alive?: (named: ProcessIdentity) => boolean;
  },
): Promise<Started> {
  const recordPath = join(stagingDir, RUN_RECORD_PATH);
  const file = await openLog(log);
  let at = 0;
  const shown = writingTo(ctx.terminal.stderr);
  const { session } = ctx;
  // Ctrl-C here stops the watching, never the run.
  const done = session.begin('stopping the watching; the run goes on in the background');
  try {
    for (;;) {
      if (file !== undefined) at = await copyLog(file, at, shown);
      // Looked at before the record is read: a supervisor found gone wrote
      // all it ever will before that read. (Looked at after, a quick run could
      // start, end and take its supervisor along in between, unseen.)
      const running = alive(supervisor);
      const record = await readRunRecord(recordPath);
      const ours =
        record?.owner !== undefined && sameProcess(record.owner, supervisor) ? record : undefined;
      if (ours?.handle !== undefined) return { kind: 'started', handle: ours.handle };
      // Told beside the log: it holds wherever the model puts its run dir.
      const told = await readStartReport(startReportOf(log));
      if (told !== undefined && readable(told)) return { kind: 'started', handle: told };
      if (ours !== undefined && !isUnderway(ours)) return { kind: 'exited', record: ours };
      if (!running) {
        if (file !== undefined) await copyLog(file, at, shown);
        return { kind: 'exited', ...(ours === undefined ? {} : { record: ours }) };
      }
      if (session.signal.aborted) return { kind: 'interrupted' };
      await sleep(100);
    }
  } finally {
    done();
    await file?.close();
  }
}

/** Where a supervisor with this log reports its run's handle (DETACHED_STARTED_VARIABLE). */
function startReportOf(log: string): string {
  return `${log}.started`;
}

/**
 * What a supervisor reported as its handle, or undefined while there is
 * nothing to read; unchecked: untilStarted asks the backend whether it is one.
 */
async function readStartReport(file: string): Promise<RunHandle | undefined> {
  const text = await readOwnFile(file).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { handle?: RunHandle } | null)?.handle;
  } catch {
    // Being written: read again at the next look.
    return undefined;
  }
}

/**
 * "process group 1234", "container 3f2a…", "slurm job 812": as a person can
 * read it, whatever a record a model rewrote may hold.
 */
function describeHandle(handle: RunHandle): string {
  if (handle.kind === 'process-group') return `process group ${visibleName(String(handle.pgid))}`;
  if (handle.kind === 'docker-container')
    return `container ${visibleName(String(handle.id).slice(0, 12))}`;
  if (handle.kind === 'slurm-job') return `slurm job ${visibleName(String(handle.id))}`;
  return visibleName(String(handle.kind));
}
