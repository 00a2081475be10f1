import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedEnsemble } from '../ensemble/load-ensemble.js';
import { UsageError } from '../errors.js';
import { type ProcessIdentity, presence, sameProcess } from '../exec/process-identity.js';
import { SUPERVISOR_LOG_VARIABLE } from '../handover.js';
import { readEnsembleRecord } from '../model/ensemble-record.js';
import type { EnsembleOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { handedFlags, startSupervisor } from './run-detach.js';

/** How long the supervisor may take to lock the ensemble's folder and write its record. */
const START_MS = 120_000;

/**
 * `ensemble --detach`: starts a supervisor, a `modelrun ensemble` of the
 * same file in a session of its own with no terminal, which runs every
 * member (a Slurm array included) and the aggregate step whatever becomes of
 * this terminal; returns once it has written ensemble.json. `status`,
 * `wait`, `cancel` and `logs` take the ensemble's folder.
 */
export async function detachEnsemble(
  options: EnsembleOptions,
  ensemble: LoadedEnsemble,
  ctx: CommandContext,
): Promise<number> {
  const { supervisor, log } = startSupervisor(
    supervisorArgs(options, ctx.cwd),
    options,
    ensemble.id,
    ctx,
    (log) => ({ [SUPERVISOR_LOG_VARIABLE]: log }),
  );

  if (!(await untilOwned(ensemble.dir, supervisor, ctx.session.signal))) {
    ctx.output.error(
      `the modelrun that was to run ${ensemble.id} in the background ended before it started it; its log:`,
    );
    ctx.output.maskedInfo(readFileSync(log, 'utf8').trimEnd());
    return 1;
  }
  const shown = {
    ensemble_id: ensemble.id,
    dir: ensemble.dir,
    members: ensemble.members.length,
    supervisor: { pid: supervisor.pid, log },
  };
  if (options.json) {
    ctx.output.raw(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  ctx.output.result(
    `detached ensemble ${ensemble.id} (${shown.members} members) on ${ensemble.backendType}`,
  );
  ctx.output.result(`  dir       ${ensemble.dir}`);
  ctx.output.result(`  modelrun  pid ${supervisor.pid}, log ${log}`);
  ctx.output.result(`  follow    modelrun status ${ensemble.dir}`);
  ctx.output.result(`  wait      modelrun wait ${ensemble.dir}`);
  ctx.output.result(`  stop      modelrun cancel ${ensemble.dir}`);
  return 0;
}

/**
 * Waits until the ensemble's record names the supervisor as its owner (true),
 * or the supervisor has gone without, START_MS have passed, or `signal` is
 * aborted (false). `alive` looks at the supervisor (a test's fake stands in for /proc).
 */
export async function untilOwned(
  dir: string,
  supervisor: ProcessIdentity,
  signal: AbortSignal,
  alive = (named: ProcessIdentity) => presence(named) === 'alive',
): Promise<boolean> {
  const deadline = Date.now() + START_MS;
  for (;;) {
    // Looked at before the record is read, so a quick ensemble that ended
    // (and its supervisor with it) just after a read is still seen started.
    const running = alive(supervisor);
    const record = await readEnsembleRecord(dir);
    if (record?.owner !== undefined && sameProcess(record.owner, supervisor)) return true;
    if (!running || Date.now() > deadline || signal.aborted) return false;
    await sleep(50);
  }
}

/** What --detach cannot go with: what needs this terminal, or runs nothing to detach from. */
export function refuseWithDetach(options: EnsembleOptions): void {
  const clash = options.dryRun
    ? '--dry-run, which starts nothing to detach from'
    : options.follow !== undefined
      ? '--follow, which streams a member to this terminal'
      : [options.ensembleFile, options.backendConfig, ...options.postprocessorConfigs].includes('-')
        ? 'a file from standard input (-), which the background modelrun has none of'
        : undefined;
  if (clash !== undefined)
    throw new UsageError(`--detach does not go with ${clash}`, {
      hint: 'leave out one of them',
    });
}

/** The same ensemble, as the supervisor is to run it: absolute paths, no --detach. */
function supervisorArgs(options: EnsembleOptions, cwd: string): string[] {
  return [
    'ensemble',
    resolve(cwd, options.ensembleFile),
    ...(options.maxParallel === undefined ? [] : ['--max-parallel', options.maxParallel]),
    ...options.only.flatMap((member) => ['--only', member]),
    ...(options.resume ? ['--resume'] : []),
    ...handedFlags(options, cwd),
  ];
}
