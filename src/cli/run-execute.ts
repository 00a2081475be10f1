import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { RunGuardian } from '../guardian/shared.js';
import { DETACHED_STARTED_VARIABLE, DETACHED_VARIABLE, withoutHandedOver } from '../handover.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { type ExecuteDeps, executeRun } from '../run/execute-run.js';
import type { RunRequest } from '../run/pipeline.js';
import type { CommandContext } from './context.js';
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
    const result = await executeRun(request, {
      ...cliRunDeps(ctx, echoTo(json, ctx), guardian),
      ...reportStart(ctx.env[DETACHED_STARTED_VARIABLE]),
    });
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
    env: withoutHandedOver(ctx.env),
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

/**
 * A supervisor's report of its run's handle to `file` (DETACHED_STARTED_VARIABLE):
 * made new, once, never written through anything that stands there already.
 */
function reportStart(file: string | undefined): Pick<ExecuteDeps, 'observe'> {
  if (file === undefined) return {};
  let told = false;
  return {
    observe: (change) => {
      if (told || !('handle' in change)) return;
      told = true;
      try {
        writeFileSync(file, `${JSON.stringify({ handle: change.handle })}\n`, {
          flag: 'wx',
          mode: 0o600,
        });
      } catch {
        // The starting modelrun then learns of the start from the run's record.
      }
    },
  };
}
