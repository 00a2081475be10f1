import type { FileHandle } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { copyLog, startOfLastLines, writingTo } from '../runs/log-reader.js';
import type { CommandContext } from './context.js';

/** The most of a log that --json prints, all of it held in memory as one string. */
const JSON_LOG_LIMIT = 16 * 2 ** 20;

export interface LogPrinting {
  /** Only the last lines. */
  tail?: number | undefined;
  /** As one JSON object: `about`, then the log's `text` (or `base64`). */
  json?: boolean;
  /** Prints what is written after, until `ended` says so. */
  follow?: { ended(): Promise<boolean>; pollMs: number; signal?: AbortSignal };
}

/**
 * Prints an open log (a run's, or a detached ensemble's): whole, its last
 * lines, or as JSON with `about` (what the log is of, and where it is).
 */
export async function printLog(
  file: FileHandle,
  about: { path: string } & Record<string, string>,
  how: LogPrinting,
  ctx: Pick<CommandContext, 'output' | 'terminal'>,
): Promise<void> {
  const from = how.tail === undefined ? 0 : await startOfLastLines(file, how.tail);
  if (how.json) {
    const size = (await file.stat()).size - from;
    if (size > JSON_LOG_LIMIT)
      throw new UsageError(
        `${about.path} holds ${Math.ceil(size / 2 ** 20)} MiB from there, more than --json prints (${JSON_LOG_LIMIT / 2 ** 20} MiB)`,
        { hint: 'take its last lines with --tail N, or print it without --json' },
      );
    const chunks: Buffer[] = [];
    await copyLog(file, from, async (bytes) => {
      chunks.push(Buffer.from(bytes));
      return true;
    });
    ctx.output.maskedRaw(
      `${JSON.stringify({ ...about, ...logText(Buffer.concat(chunks)) }, null, 2)}\n`,
    );
    return;
  }
  await copyLog(file, from, writingTo(ctx.terminal.stdout), how.follow);
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
