import { constants } from 'node:fs';
import { type FileHandle, lstat, open, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunFailedError } from '../errors.js';
import { writeChunk } from '../exec/streams.js';
import type { RunRecord } from '../model/run-record.js';
import { within } from '../model/staging-dir.js';
import { readDetachedEntry } from './detached-entry.js';

const CHUNK = 64 * 1024;

/** A run's log file, as the run writes it: logs/stdout.log or logs/stderr.log. */
export function logPath(runDir: string, stream: 'stdout' | 'stderr'): string {
  return join(runDir, 'logs', `${stream}.log`);
}

/**
 * Where a run's log is: logs/ in its run dir; for a detached run, the file
 * its engine writes (a Slurm job's output), which may be anywhere. The
 * record names that file, but the model can rewrite the record, and have
 * `logs` print a file of its choosing: so the path is taken from the
 * run's entry in the state folder, which the host that submitted the run
 * kept; where there is none, only a path inside the run dir is read.
 */
export async function runLogPath(
  env: NodeJS.ProcessEnv,
  runDir: string,
  record: Pick<RunRecord, 'run_id' | 'detached' | 'started_at' | 'handle'>,
  stream: 'stdout' | 'stderr',
): Promise<string> {
  if (record.detached === undefined) return logPath(runDir, stream);
  const entry = await readDetachedEntry(env, runDir, record);
  if (entry?.logs !== undefined) return entry.logs[stream];
  const named = record.detached.logs[stream];
  const [dir, folder] = await Promise.all(
    [runDir, dirname(named)].map((path) => realpath(path).catch(() => undefined)),
  );
  if (dir !== undefined && folder !== undefined && within(dir, folder)) return named;
  throw new RunFailedError(
    `${record.run_id}'s record names its ${stream} log outside its run dir (${named}), and this host kept no entry of its own for the run to confirm it`,
    {
      hint: 'read the logs where the run was submitted, as the user who submitted it, or open the file yourself',
    },
  );
}

/** Opens a log for reading; undefined when there is none. A link is not followed: the run writes a file. */
export async function openLog(path: string): Promise<FileHandle | undefined> {
  try {
    // Nor is a logs folder that is a link (a model may put one there, pointing anywhere).
    if (!(await lstat(dirname(path))).isDirectory()) return undefined;
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if ((await file.stat()).isFile()) return file;
    await file.close();
  } catch {
    // None, or not a file of the run's.
  }
  return undefined;
}

/**
 * A sink for copyLog that writes to `stream` and waits until it takes each
 * piece; a reader that went away (`| head`) has what it wanted, and ends the copy.
 */
export function writingTo(stream: NodeJS.WritableStream): (bytes: Buffer) => Promise<boolean> {
  return (bytes) =>
    writeChunk(stream, bytes).then(
      () => true,
      () => false,
    );
}

/** Where the last `lines` lines of the file begin, read from its end. */
export async function startOfLastLines(file: FileHandle, lines: number): Promise<number> {
  const { size } = await file.stat();
  if (lines <= 0) return size;
  let end = size;
  let found = 0;
  const buffer = Buffer.alloc(CHUNK);
  // A final newline ends the last line; it does not begin another.
  let skipFinal = true;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await file.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== 0x0a) {
        skipFinal = false;
        continue;
      }
      if (skipFinal) {
        skipFinal = false;
        continue;
      }
      found++;
      if (found === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/**
 * Copies the file from `from` to `sink` as it grows, until `ended()` says
 * the run is over and a last read finds nothing more; without `follow`,
 * only what is there now. A sink that takes no more (a reader gone: `| head`)
 * returns false, which ends the copy. Resolves with where it stopped.
 */
export async function copyLog(
  file: FileHandle,
  from: number,
  sink: (bytes: Buffer) => Promise<boolean>,
  follow?: { ended: () => Promise<boolean>; pollMs: number; signal?: AbortSignal },
): Promise<number> {
  let at = from;
  const buffer = Buffer.alloc(CHUNK);
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, CHUNK, at);
    if (bytesRead > 0) {
      at += bytesRead;
      if (!(await sink(Buffer.from(buffer.subarray(0, bytesRead))))) return at;
      continue;
    }
    // Shorter than what was read: written again from its start (a requeued Slurm job's output file).
    if ((await file.stat()).size < at) {
      at = 0;
      continue;
    }
    if (follow === undefined || follow.signal?.aborted) return at;
    // Asked before one more read, so that what the run wrote before its end is never cut off.
    if (await follow.ended()) {
      const last = await file.read(buffer, 0, CHUNK, at);
      if (last.bytesRead === 0) return at;
      continue;
    }
    await sleep(follow.pollMs);
  }
}
