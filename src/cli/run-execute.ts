import { Writable } from 'node:stream';
import type { RunGuardian } from '../guardian/shared.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { type ExecuteDeps, executeRun } from '../run/execute-run.js';
import type { RunRequest } from '../run/pipeline.js';
import type { CommandContext } from './context.js';
import { DETACHED_OVERRIDES_VARIABLE } from './layering-flags.js';
import { printDryRun, printInterruptedDryRun, printSummary } from './run-report.js';

/**
 * Runs a loaded request as `run` and `pipeline` do, prints its outcome, and
 * returns the exit code. `guardian` is the run's lease on the session's
 * guardian, taken early by a command that wants it booted while it loads;
 * the run lets go of it when it ends.
 */
export async function execute(
  request: RunRequest,
  json: boolean,
  ctx: CommandContext,
  guardian: RunGuardian = ctx.session.guardian(),
): Promise<number> {
  const { session, output } = ctx;
  const done = session.begin();
  try {
    // Under --json, stdout carries only the run record; the model's output goes to stderr.
    const result = await executeRun(request, cliRunDeps(ctx, echoTo(json, ctx), guardian));
    if (result.dryRun !== undefined)
      printDryRun(result.dryRun, stagingDirOf(request.model), output, json);
    else if (request.dryRun) printInterruptedDryRun(stagingDirOf(request.model), output, json);
    else printSummary(result, output, json);
    return result.exitCode;
  } finally {
    // Reached only once the pipeline has undone what it started itself.
    done();
  }
}

/** What a run the CLI makes runs with: this process's session, a lease on its guardian, output and environment. */
export function cliRunDeps(
  ctx: CommandContext,
  terminal: CommandContext['terminal'],
  guardian: RunGuardian = ctx.session.guardian(),
): ExecuteDeps {
  const { session, output } = ctx;
  return {
    // The supervisor's own setting: the model, and a modelrun it starts, do not inherit it.
    env: withoutDetached(ctx.env),
    terminal,
    status: (line) => output.status(line),
    signal: session.signal,
    cleanup: session.cleanup,
    redactor: output.redactor,
    progress: ctx.terminal.stderr as NodeJS.WritableStream & { isTTY?: boolean },
    guardian,
    owner: 'cli',
  };
}

/** Set in a detached run's supervisor (run-detach.ts): it echoes no model output, as it has no terminal. */
export const DETACHED_VARIABLE = 'MODELRUN_DETACHED';

/** Where a detached ensemble's supervisor learns the log its lines go to, for `modelrun logs`. */
export const SUPERVISOR_LOG_VARIABLE = 'MODELRUN_SUPERVISOR_LOG';

/**
 * Where the model's output is echoed: the terminal; stderr under --json,
 * where stdout carries only the record; nowhere in a detached run's
 * supervisor, whose output is its own log file (the model's is in the logs).
 */
function echoTo(json: boolean, ctx: CommandContext): CommandContext['terminal'] {
  if (ctx.env[DETACHED_VARIABLE] === '1') return nowhere();
  return json ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr } : ctx.terminal;
}

/** A terminal that takes a run's output and shows it nowhere: the run keeps it in its logs. */
export function nowhere(): CommandContext['terminal'] {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  return { stdout: discard, stderr: discard };
}

function withoutDetached(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (
    env[DETACHED_VARIABLE] === undefined &&
    env[DETACHED_OVERRIDES_VARIABLE] === undefined &&
    env[SUPERVISOR_LOG_VARIABLE] === undefined
  )
    return env;
  const {
    [DETACHED_VARIABLE]: _supervisor,
    [DETACHED_OVERRIDES_VARIABLE]: _overrides,
    [SUPERVISOR_LOG_VARIABLE]: _log,
    ...rest
  } = env;
  return rest;
}
