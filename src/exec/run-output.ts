import type { WriteStream } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BoundedEcho, type EchoGaveUp } from './bounded-echo.js';
import { ExecFailure } from './exec-failure.js';
import { LineTail } from './line-tail.js';
import { openOwnFile } from './link-safe.js';
import { sameTerminal } from './same-terminal.js';
import { StreamPrefixer } from './stream-prefixer.js';
import { endAndWait, stallReported, writeChunk } from './streams.js';

/** Where a backend writes the model's two output streams. */
export interface RunOutput {
  stdout: Writable;
  stderr: Writable;
}

type StreamName = keyof RunOutput;

export interface RunOutputOptions {
  /** Folder for stdout.log and stderr.log; no log files when undefined. */
  logDir?: string;
  /** Live echo targets; no echo when undefined. */
  echo?: {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    prefix?: (name: StreamName) => string;
    /**
     * Whether to label lines by stream once the model has written to both;
     * by default only when both targets are the same terminal.
     */
    label?: boolean;
    /**
     * Where to say that the echo gave up on a reader that stopped reading,
     * as the notice in that reader's stream may never be read. Default: a
     * line on the other stream, unless its reader stopped too.
     */
    onGaveUp?: (notice: string) => void;
  };
  /** How many trailing stderr lines to keep for the failure summary. */
  tailLines?: number;
  /** Bytes the echo may fall behind its reader, per stream. Default: ECHO_LIMIT_BYTES. */
  echoLimitBytes?: number;
}

/**
 * How long closing waits for an echo reader that takes nothing more (`| less`
 * on its first page, an unread PassThrough), and for one that is merely slow.
 */
const ECHO_STALL_MS = 2000;
const ECHO_CAP_MS = 10_000;

export interface RunOutputHandle {
  output: RunOutput;
  /** The last lines the model wrote to stderr. */
  stderrTail(): string[];
  /**
   * Waits for everything written to reach the log files, and closes them;
   * waits for the echo only while its reader keeps taking it. Safe to call again.
   */
  close(): Promise<void>;
}

/**
 * Splits the model's output three ways as it arrives: the log files, the
 * live echo, and a short stderr tail. Each chunk is acknowledged once the
 * log file has taken it, so a model that prints gigabytes is slowed to the
 * disk's pace instead of growing modelrun's memory. The echo never holds
 * the logs or the model back: a reader that falls behind gets a bounded
 * queue, then a gap marked by a notice (BoundedEcho).
 */
export async function createRunOutput(options: RunOutputOptions): Promise<RunOutputHandle> {
  let files: Record<StreamName, WriteStream> | undefined;
  if (options.logDir !== undefined) {
    files = await openLogFiles(options.logDir);
    // A failed write is reported through its callback and fails the run; the
    // stream's 'error' event would otherwise be an uncaught exception.
    for (const file of Object.values(files)) file.on('error', () => undefined);
  }
  const tail = new LineTail(options.tailLines ?? 20);
  const echo = options.echo;
  const prefixer =
    echo !== undefined && (echo.label ?? sameTerminal(echo.stdout, echo.stderr))
      ? new StreamPrefixer(echo.prefix)
      : undefined;
  const echoes =
    echo === undefined
      ? undefined
      : {
          stdout: boundedEcho(echo.stdout, 'stdout'),
          stderr: boundedEcho(echo.stderr, 'stderr'),
        };
  function boundedEcho(target: NodeJS.WritableStream, name: StreamName): BoundedEcho {
    return new BoundedEcho(target, {
      name,
      logFile: options.logDir === undefined ? undefined : join(options.logDir, `${name}.log`),
      ...(options.echoLimitBytes === undefined ? {} : { limitBytes: options.echoLimitBytes }),
    });
  }
  const tee = (name: StreamName) =>
    new TeeWritable(async (chunks: Buffer[]) => {
      // The log file takes a batch in one write (a writev of the chunks as
      // they came, not a copy of them into one buffer); the echo and the tail
      // get them one by one, so that a reader that stalls in the middle of
      // one is told within a chunk how much it was not shown.
      const kept = files === undefined ? undefined : writeChunks(files[name], chunks);
      for (const chunk of chunks) {
        if (name === 'stderr') tail.push(chunk);
        echoes?.[name].write(prefixer?.apply(name, chunk) ?? chunk);
      }
      await kept;
    });
  const output = { stdout: tee('stdout'), stderr: tee('stderr') };
  // Likewise for the tees: their writers hear of a failure through the write
  // callback (or their pipeline), so the 'error' event must not crash modelrun.
  for (const stream of Object.values(output)) stream.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    output,
    stderrTail: () => tail.lines(),
    close() {
      closing ??= (async () => {
        // First every queued chunk through the tees, then the files: in the
        // other order, the end of the output could be lost.
        await Promise.all([output.stdout, output.stderr].map(endAndWait));
        const [, gaveUp] = await Promise.all([
          Promise.all(Object.values(files ?? {}).map(endAndWait)),
          echoes === undefined
            ? undefined
            : Promise.all(
                [echoes.stdout, echoes.stderr].map((e) => e.settle(ECHO_STALL_MS, ECHO_CAP_MS)),
              ),
        ]);
        if (echo !== undefined && gaveUp !== undefined) sayGaveUp(echo, gaveUp);
      })();
      return closing;
    },
  };
}

/** Says, away from the stalled reader, what it was not shown. */
function sayGaveUp(
  echo: NonNullable<RunOutputOptions['echo']>,
  [stdout, stderr]: (EchoGaveUp | undefined)[],
): void {
  const say = (target: NodeJS.WritableStream, gaveUp: EchoGaveUp, other: NodeJS.WritableStream) => {
    // modelrun's exit would otherwise say it again, without the log's path.
    stallReported.add(target);
    if (echo.onGaveUp !== undefined) echo.onGaveUp(gaveUp.notice);
    else if (target !== other) other.write(`${gaveUp.notice}\n`);
  };
  if (stdout !== undefined)
    say(echo.stdout, stdout, stderr === undefined ? echo.stderr : echo.stdout);
  if (stderr !== undefined)
    say(echo.stderr, stderr, stdout === undefined ? echo.stdout : echo.stderr);
}

/**
 * Opens stdout.log and stderr.log in `logDir`, which must be a real folder
 * holding no links there: a template or a model of an earlier run can leave
 * a `logs` symlink, and the logs would then overwrite whatever it points to.
 * Refused before the model starts, rather than moved aside, so the user sees
 * it and nothing of theirs is renamed.
 */
async function openLogFiles(logDir: string): Promise<Record<StreamName, WriteStream>> {
  const refuse = (problem: string) =>
    new ExecFailure(`cannot keep the model's logs: ${problem}`, {
      hint: `remove it from the run directory (or from the model's template); modelrun writes stdout.log and stderr.log itself in a logs folder there`,
    });
  const stats = await lstat(logDir).catch(() => undefined);
  if (stats === undefined) await mkdir(logDir, { recursive: true });
  else if (stats.isSymbolicLink())
    throw refuse(`${logDir} is a symlink, which modelrun does not write through`);
  else if (!stats.isDirectory()) throw refuse(`${logDir} is not a folder`);
  const opened: WriteStream[] = [];
  try {
    for (const name of ['stdout.log', 'stderr.log']) {
      const handle = await openOwnFile(join(logDir, name));
      if (typeof handle === 'string') throw refuse(handle);
      opened.push(handle.createWriteStream());
    }
  } catch (error) {
    await Promise.all(opened.map(endAndWait));
    throw error;
  }
  const [stdout, stderr] = opened as [WriteStream, WriteStream];
  return { stdout, stderr };
}

/**
 * What a tee takes in while its last batch is still being written: enough
 * that reading the model's pipe goes on meanwhile, and that the next write
 * is one large one rather than one per read of the pipe, which is what
 * held a model that prints a lot to a third of the disk's pace. Memory stays
 * bounded: past this, the writer (the pipe's pump) waits.
 */
const TEE_BATCH_BYTES = 1024 * 1024;

/**
 * A Writable that hands chunks to an async sink, and takes the next only
 * when it is done: all that arrived meanwhile, at once.
 */
class TeeWritable extends Writable {
  constructor(private readonly sink: (chunks: Buffer[]) => Promise<void>) {
    super({ highWaterMark: TEE_BATCH_BYTES });
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.sink([chunk]).then(() => callback(), callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.sink(chunks.map((entry) => entry.chunk)).then(() => callback(), callback);
  }
}

/** Writes `chunks` in one writev of the file, and waits until it has taken all of them. */
function writeChunks(file: WriteStream, chunks: Buffer[]): Promise<unknown> {
  file.cork();
  const written = Promise.all(chunks.map((chunk) => writeChunk(file, chunk)));
  file.uncork();
  return written;
}

/** The failure reason of a run whose model ran but whose output could not be kept. */
export function outputLost(message: string): string {
  return `the model's output could not be written to the logs: ${message}`;
}
