import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import type { LoadedRun } from '../load/run-request.js';
import { isUnderway, RUN_RECORD_PATH, type RunRecord, readRunRecord } from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { PACKAGE_ROOT } from '../package-info.js';
import { copyLog, openLog } from '../runs/log-reader.js';
import type { RunOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { DETACHED_VARIABLE } from './run-execute.js';

/** Backends whose detached runs a supervisor on this machine follows. */
const SUPERVISED = ['local', 'docker', 'apptainer'];

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
  if (!SUPERVISED.includes(run.backend.type))
    throw new UsageError(
      `--detach does not yet work with the ${run.backend.type} backend, whose run would need a process left on this machine`,
      {
        hint: 'for now, run it without --detach under nohup, tmux or screen, so that it outlives the terminal',
      },
    );
  const stagingDir = stagingDirOf(run.model);
  const log = supervisorLog(ctx.env, run.model.run_id);
  const fd = openSync(log, 'wx', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(
      process.execPath,
      [join(PACKAGE_ROOT, 'bin', 'modelrun.js'), ...supervisorArgs(options, ctx.cwd)],
      {
        cwd: ctx.cwd,
        env: { ...ctx.env, [DETACHED_VARIABLE]: '1' },
        detached: true,
        stdio: ['ignore', fd, fd],
      },
    );
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (pid === undefined)
    throw new UsageError('the supervisor could not be started', { hint: `see ${log}` });
  const supervisor = pid;
  output.status(
    `started modelrun (pid ${supervisor}) to run ${run.model.run_id} in the background; its own log: ${log}`,
  );

  // Until the model has started: what the supervisor says is shown here too.
  const started = await untilStarted(stagingDir, supervisor, log, ctx);
  if (started.kind === 'exited') {
    output.error(
      `the supervisor ended before the model started: ${started.record === undefined ? 'see its log above' : `${started.record.status}${started.record.reason === undefined ? '' : `: ${started.record.reason}`}`}`,
    );
    return 1;
  }
  const shown = {
    run_dir: stagingDir,
    run_id: run.model.run_id,
    supervisor: { pid: supervisor, log },
    ...(started.handle === undefined ? {} : { handle: started.handle }),
  };
  if (options.json) {
    output.raw(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  output.result(
    `detached ${run.model.run_id} on ${run.backend.type}${started.kind === 'interrupted' ? ' (still starting)' : ''}`,
  );
  output.result(`  run dir   ${stagingDir}`);
  if (started.handle !== undefined) output.result(`  handle    ${describeHandle(started.handle)}`);
  output.result(`  modelrun  pid ${supervisor}, log ${log}`);
  output.result(`  follow    modelrun logs -f ${stagingDir}`);
  output.result(`  wait      modelrun wait ${stagingDir}`);
  output.result(`  stop      modelrun cancel ${stagingDir}`);
  return 0;
}

/** The same run, as the supervisor is to make it: absolute paths, no --detach. */
function supervisorArgs(options: RunOptions, cwd: string): string[] {
  return [
    'run',
    resolve(cwd, options.modelFile),
    ...(options.backendConfig === undefined
      ? []
      : ['--backend-config', resolve(cwd, options.backendConfig)]),
    ...options.postprocessorConfigs.flatMap((file) => [
      '--postprocessor-config',
      resolve(cwd, file),
    ]),
    ...(options.skipGenerate ? ['--skip-generate'] : []),
    ...(options.postprocess ? [] : ['--no-postprocess']),
  ];
}

/** A new file for the supervisor's own lines: $XDG_STATE_HOME/modelrun/detached, or ~/.local/state/… */
function supervisorLog(env: NodeJS.ProcessEnv, runId: string): string {
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  const dir = join(state, 'modelrun', 'detached');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `${runId}-${stamp}-${randomBytes(3).toString('hex')}.log`);
}

type Started =
  | { kind: 'started' | 'interrupted'; handle?: RunHandle }
  | { kind: 'exited'; record?: RunRecord };

/** Waits until the supervisor's run has its handle on record, has ended, or the supervisor has gone. */
async function untilStarted(
  stagingDir: string,
  supervisor: number,
  log: string,
  ctx: CommandContext,
): Promise<Started> {
  const recordPath = join(stagingDir, RUN_RECORD_PATH);
  const file = await openLog(log);
  let at = 0;
  const { interrupts } = ctx;
  // Ctrl-C here stops the watching, never the run.
  interrupts.active = true;
  try {
    for (;;) {
      if (file !== undefined)
        at = await copyLog(file, at, async (bytes) => {
          ctx.terminal.stderr.write(bytes);
          return true;
        });
      const record = await readRunRecord(recordPath);
      const ours = record?.owner?.pid === supervisor ? record : undefined;
      if (ours?.handle !== undefined) return { kind: 'started', handle: ours.handle };
      if (ours !== undefined && !isUnderway(ours)) return { kind: 'exited', record: ours };
      if (!alive(supervisor)) {
        if (file !== undefined)
          await copyLog(file, at, async (bytes) => {
            ctx.terminal.stderr.write(bytes);
            return true;
          });
        return { kind: 'exited', ...(ours === undefined ? {} : { record: ours }) };
      }
      if (interrupts.signal.aborted) return { kind: 'interrupted' };
      await sleep(100);
    }
  } finally {
    interrupts.active = false;
    await file?.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** "process group 1234", "container 3f2a…", "slurm job 812". */
export function describeHandle(handle: RunHandle): string {
  if (handle.kind === 'process-group') return `process group ${String(handle.pgid)}`;
  if (handle.kind === 'docker-container') return `container ${String(handle.id).slice(0, 12)}`;
  if (handle.kind === 'slurm-job') return `slurm job ${String(handle.id)}`;
  return handle.kind;
}
