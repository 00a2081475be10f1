import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { watchEnd } from '../runs/end-watch.js';
import { locateRun } from '../runs/locate.js';
import { copyLog, openLog, runLogPath, startOfLastLines, writingTo } from '../runs/log-reader.js';
import type { LogsOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { ensembleAt, ensembleLogs } from './ensemble-runs.js';

/** How often `logs -f` looks for more output and for the run's end. */
const FOLLOW_POLL_MS = 250;

/** The most of a log that --json prints, all of it held in memory as one string. */
const JSON_LOG_LIMIT = 16 * 2 ** 20;

/** Prints a run's log, or follows it until the run ends. */
export async function runLogs(options: LogsOptions, ctx: CommandContext): Promise<number> {
  const { output, env, cwd, terminal } = ctx;
  const tail = tailLines(options.tail);
  if (options.json && options.follow)
    throw new UsageError('--json prints the log once, so it does not go with -f', {
      hint: 'leave out -f, or follow the run with `modelrun wait RUN --json`',
    });
  const ensemble = await ensembleAt(options.run, cwd);
  if (ensemble !== undefined) return ensembleLogs(ensemble, options.follow, ctx);
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
    const from = tail === undefined ? 0 : await startOfLastLines(file, tail);
    if (options.json) {
      const size = (await file.stat()).size - from;
      if (size > JSON_LOG_LIMIT)
        throw new UsageError(
          `${path} holds ${Math.ceil(size / 2 ** 20)} MiB from there, more than --json prints (${JSON_LOG_LIMIT / 2 ** 20} MiB)`,
          { hint: 'take its last lines with --tail N, or print it without --json' },
        );
      const chunks: Buffer[] = [];
      await copyLog(file, from, async (bytes) => {
        chunks.push(Buffer.from(bytes));
        return true;
      });
      const shown = {
        run_dir: found.dir,
        run_id: found.record.run_id,
        stream,
        path,
        ...logText(Buffer.concat(chunks)),
      };
      output.maskedRaw(`${JSON.stringify(shown, null, 2)}\n`);
      return 0;
    }
    await copyLog(
      file,
      from,
      writingTo(terminal.stdout),
      options.follow
        ? {
            pollMs: FOLLOW_POLL_MS,
            // Asked of the engine too now and then: a run whose modelrun has gone ends.
            ended: async () => (await ended()).ended,
          }
        : undefined,
    );
  } finally {
    await file.close();
  }
  return 0;
}

/**
 * A log's bytes for JSON: as `text` when they are UTF-8, else as `base64`,
 * so that no byte is changed on the way (a model may write any).
 */
function logText(bytes: Buffer): { text: string } | { base64: string } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { base64: bytes.toString('base64') };
  }
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
