import { constants, type WriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BoundedEcho, type EchoGaveUp } from './bounded-echo.js';
import { ExecFailure } from './exec-failure.js';
import { LineTail } from './line-tail.js';
import { openOwnFile } from './link-safe.js';
import { LogFollower } from './log-follower.js';
import { LogRelay } from './log-relay.js';
import { isDevNull, sameTarget, sameTerminal } from './same-terminal.js';
import { StreamPrefixer } from './stream-prefixer.js';
import { endAndWait, stallReported, writeChunk } from './streams.js';

/** Where a backend writes the model's two output streams. */
export interface RunOutput {
  stdout: Writable;
  stderr: Writable;
  /**
   * Offered when the logs are kept and nothing needs the two streams in the
   * order they come (see createRunOutput): a process runner may give its
   * child the pipes of `direct.open()`, copied into the log files without
   * passing through modelrun. Nothing is then written to the two streams above.
   */
  direct?: DirectOutput;
}

/**
 * The log files, filled by copies outside modelrun (LogRelay), for a child
 * process to write into through a pipe; the echo and the stderr tail follow
 * the files.
 */
export interface DirectOutput {
  /**
   * Starts the copies; hand `stdout` and `stderr` to the child as its
   * output, then call `handed()`, whether the child started or not.
   */
  open(): { stdout: Writable; stderr: Writable; handed(): void };
  /**
   * The child and its group are gone: waits until the copies have written
   * all (`cut` stops them, for a pipe held open by a process that escaped
   * the run), then reads the files to their end into the echo and the tail.
   * Resolves with why the logs may be incomplete (a full disk), or undefined.
   */
  finish(cut?: AbortSignal): Promise<Error | undefined>;
}

type StreamName = 'stdout' | 'stderr';

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
  const echo = options.echo;
  const label = echo !== undefined && (echo.label ?? sameTerminal(echo.stdout, echo.stderr));
  // The output may go to the log files without passing through modelrun, at
  // the disk's pace, unless the echo needs the two streams in the order they
  // come: on a terminal, or mixed into one file or pipe (`2>&1`). /dev/null
  // needs nothing.
  const directly =
    options.logDir !== undefined &&
    (echo === undefined ||
      (!label &&
        [echo.stdout, echo.stderr].every(
          (target) => isDevNull(target) || (target as { isTTY?: boolean }).isTTY !== true,
        ) &&
        (isDevNull(echo.stdout) ||
          isDevNull(echo.stderr) ||
          !sameTarget(echo.stdout, echo.stderr))));
  let files: LogFiles | undefined;
  if (options.logDir !== undefined) {
    files = await openLogFiles(options.logDir, directly);
    // A failed write is reported through its callback and fails the run; the
    // stream's 'error' event would otherwise be an uncaught exception.
    for (const file of Object.values(files.streams)) file.on('error', () => undefined);
  }
  const tail = new LineTail(options.tailLines ?? 20);
  const prefixer = label ? new StreamPrefixer(echo?.prefix) : undefined;
  const echoTo = (name: StreamName) =>
    echo === undefined || isDevNull(echo[name]) ? undefined : boundedEcho(echo[name], name);
  const echoes = { stdout: echoTo('stdout'), stderr: echoTo('stderr') };
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
      const kept = files === undefined ? undefined : writeChunks(files.streams[name], chunks);
      for (const chunk of chunks) view(name, chunk);
      await kept;
    });
  /** The live view of a piece of output: the echo and the stderr tail. */
  const view = (name: StreamName, chunk: Buffer) => {
    if (name === 'stderr') tail.push(chunk);
    echoes[name]?.write(prefixer?.apply(name, chunk) ?? chunk);
  };
  const direct =
    files?.readers === undefined || options.logDir === undefined
      ? undefined
      : directOutput(
          files.handles,
          files.readers,
          options.logDir,
          view,
          (name) => echoes[name] !== undefined,
          (name) => echoes[name]?.keepsUp() ?? true,
        );
  const output: RunOutput = {
    stdout: tee('stdout'),
    stderr: tee('stderr'),
    ...(direct === undefined ? {} : { direct }),
  };
  // Likewise for the tees: their writers hear of a failure through the write
  // callback (or their pipeline), so the 'error' event must not crash modelrun.
  for (const stream of [output.stdout, output.stderr]) stream.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    output,
    stderrTail: () => tail.lines(),
    close() {
      closing ??= (async () => {
        // First every queued chunk through the tees, then the files: in the
        // other order, the end of the output could be lost.
        await Promise.all([output.stdout, output.stderr].map(endAndWait));
        // Output copied into the files outside modelrun: the view reads them to their end first.
        await direct?.finish();
        const [, gaveUp] = await Promise.all([
          Promise.all([
            ...Object.values(files?.streams ?? {}).map(endAndWait),
            ...Object.values(files?.readers ?? {}).map((reader) => reader.close()),
          ]),
          Promise.all(
            [echoes.stdout, echoes.stderr].map((e) => e?.settle(ECHO_STALL_MS, ECHO_CAP_MS)),
          ),
        ]);
        if (echo !== undefined) sayGaveUp(echo, gaveUp);
      })();
      return closing;
    },
  };
}

/** The log files, filled by a LogRelay and followed into the live view by a LogFollower each. */
function directOutput(
  handles: Record<StreamName, FileHandle>,
  readers: Record<StreamName, FileHandle>,
  logDir: string,
  view: (name: StreamName, chunk: Buffer) => void,
  echoed: (name: StreamName) => boolean,
  keepsUp: (name: StreamName) => boolean,
): DirectOutput {
  // Only what is viewed is read back: stderr for its tail, and a stream with an echo.
  const viewed = (['stdout', 'stderr'] as const).filter(
    (name) => name === 'stderr' || echoed(name),
  );
  const followers = viewed.map(
    (name) =>
      new LogFollower(
        readers[name],
        (chunk) => view(name, chunk),
        () => keepsUp(name),
      ),
  );
  let relay: LogRelay | undefined;
  let finished: Promise<Error | undefined> | undefined;
  return {
    open() {
      relay ??= new LogRelay({ stdout: handles.stdout.fd, stderr: handles.stderr.fd }, logDir);
      for (const follower of followers) follower.start();
      const opened = relay;
      return { ...opened.inputs, handed: () => opened.handed() };
    },
    finish(cut) {
      // A backend that wrote through the streams instead: the view has seen it all.
      const opened = relay;
      if (opened === undefined) return Promise.resolve(undefined);
      if (cut?.aborted) opened.cut();
      else cut?.addEventListener('abort', () => opened.cut(), { once: true });
      finished ??= (async () => {
        const error = await opened.done();
        await Promise.all(followers.map((follower) => follower.finish()));
        return error;
      })();
      return finished;
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
async function openLogFiles(logDir: string, forChild: boolean): Promise<LogFiles> {
  const refuse = (problem: string) =>
    new ExecFailure(`cannot keep the model's logs: ${problem}`, {
      hint: `remove it from the run directory (or from the model's template); modelrun writes stdout.log and stderr.log itself in a logs folder there`,
    });
  const stats = await lstat(logDir).catch(() => undefined);
  if (stats === undefined) await mkdir(logDir, { recursive: true });
  else if (stats.isSymbolicLink())
    throw refuse(`${logDir} is a symlink, which modelrun does not write through`);
  else if (!stats.isDirectory()) throw refuse(`${logDir} is not a folder`);
  const opened: { handle: FileHandle; stream: WriteStream; reader?: FileHandle }[] = [];
  try {
    for (const name of ['stdout.log', 'stderr.log']) {
      const path = join(logDir, name);
      const handle = await openOwnFile(path);
      if (typeof handle === 'string') throw refuse(handle);
      const file: (typeof opened)[number] = { handle, stream: handle.createWriteStream() };
      opened.push(file);
      if (forChild) file.reader = await openReader(path, handle);
    }
  } catch (error) {
    await Promise.all(opened.flatMap((file) => [endAndWait(file.stream), file.reader?.close()]));
    throw error;
  }
  const [out, err] = opened as [(typeof opened)[number], (typeof opened)[number]];
  return {
    handles: { stdout: out.handle, stderr: err.handle },
    streams: { stdout: out.stream, stderr: err.stream },
    ...(out.reader === undefined || err.reader === undefined
      ? {}
      : { readers: { stdout: out.reader, stderr: err.reader } }),
  };
}

/** The two log files: written by modelrun's streams, or by the LogRelay through the handles' descriptors and read back by `readers`. */
interface LogFiles {
  handles: Record<StreamName, FileHandle>;
  streams: Record<StreamName, WriteStream>;
  readers?: Record<StreamName, FileHandle>;
}

/**
 * Opens the log file just opened as `written` once more, to read it: the
 * same file, checked by its device and inode, not whatever its name leads
 * to by then. Opened before the model starts, so the model cannot swap it.
 */
async function openReader(path: string, written: FileHandle): Promise<FileHandle> {
  const reader = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const [a, b] = await Promise.all([reader.stat(), written.stat()]);
  if (a.dev === b.dev && a.ino === b.ino) return reader;
  await reader.close();
  throw new ExecFailure(`cannot keep the model's logs: ${path} changed while modelrun opened it`, {
    hint: 'run again; something else writes into the run directory',
  });
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
