import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { watchEnd } from '../runs/end-watch.js';
import { locateRun } from '../runs/locate.js';
import { openLog, runLogPath } from '../runs/log-reader.js';
import type { LogsOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { ensembleLogs } from './ensemble-logs.js';
import { ensembleAt } from './ensemble-runs.js';
import { printLog } from './log-print.js';

/** How often `logs -f` looks for more output and for the run's end. */
const FOLLOW_POLL_MS = 250;

/** Prints a run's log, or follows it until the run ends. */
export async function runLogs(options: LogsOptions, ctx: CommandContext): Promise<number> {
  const { output, env, cwd } = ctx;
  const tail = tailLines(options.tail);
  if (options.json && options.follow)
    throw new UsageError('--json prints the log once, so it does not go with -f', {
      hint: 'leave out -f, or follow the run with `modelrun wait RUN --json`',
    });
  const ensemble = await ensembleAt(options.run, cwd, ctx.env);
  if (ensemble !== undefined) {
    if (options.stderr)
      throw new UsageError(
        "--stderr is for a run's log; an ensemble's log is its supervisor's, one file",
        {
          hint: `leave out --stderr, or read a member's: \`modelrun logs ${options.run}/<run id> --stderr\``,
        },
      );
    return ensembleLogs(ensemble, { follow: options.follow, tail, json: options.json }, ctx);
  }
  const found = await locateRun(options.run, { cwd, env });
  const stream = options.stderr ? 'stderr' : 'stdout';
  const path = await runLogPath(env, found.dir, found.record, stream);
  const ended = watchEnd(found, env);
  // Followed before the model has written anything (a job still in the queue): its log is waited for.
  const file = options.follow ? await untilOpened(path, ended) : await openLog(path);
  if (file === undefined) {
    output.error(
      `${found.record.run_id} has no ${stream} log (${path})`,
      found.record.backend.config.capture_output === false
        ? 'its backend config sets capture_output: false, which keeps no logs'
        : 'the run has not started its model yet, or its logs were removed',
    );
    return 1;
  }
  try {
    await printLog(
      file,
      { run_dir: found.dir, run_id: found.record.run_id, stream, path },
      {
        tail,
        json: options.json,
        ...(options.follow
          ? {
              follow: {
                pollMs: FOLLOW_POLL_MS,
                // Asked of the engine too now and then: a run whose modelrun has gone ends.
                ended: async () => (await ended()).ended,
              },
            }
          : {}),
      },
      ctx,
    );
  } finally {
    await file.close();
  }
  return 0;
}

/** The log once it can be opened, or undefined once the run has ended without one. */
async function untilOpened(
  path: string,
  ended: ReturnType<typeof watchEnd>,
): Promise<FileHandle | undefined> {
  for (;;) {
    const file = await openLog(path);
    if (file !== undefined) return file;
    if ((await ended()).ended) return openLog(path);
    await sleep(FOLLOW_POLL_MS);
  }
}

function tailLines(given: string | undefined): number | undefined {
  if (given === undefined) return undefined;
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(Number(given)))
    throw new UsageError(`--tail ${given} is not a number of lines`, {
      hint: 'give a whole number, such as --tail 20',
    });
  return Number(given);
}
