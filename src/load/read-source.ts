import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  read as readFd,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { kindOfStats } from '../config/path-context.js';
import { KIND_NAMES } from '../config/paths.js';
import { decodeUtf8 } from '../utf8.js';

/** How standard input (`-` on the command line) is named in messages. */
export const STDIN_NAME = '<stdin>';

/** Config files are small; anything bigger is a mistake or an attack, and is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type SourceResult =
  | { ok: true; text: string }
  | {
      ok: false;
      reason: 'missing' | 'unreadable' | 'too-large';
      message: string;
      line?: number;
      column?: number;
    };

/**
 * Reads a config file, checking what it is on the open descriptor first.
 * Synchronous on purpose: CI validates a thousand small files in one call,
 * and the promise round trips cost more than the reads.
 */
export function readSource(file: string): SourceResult {
  let fd: number | undefined;
  try {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait for
    // one forever, and a blocked synchronous read cannot even be interrupted.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = fstatSync(fd);
    if (!info.isFile()) return notAFile(file, info);
    // st_size is not trusted: /proc files say 0, and a file may grow while it
    // is read. Reading one byte past the limit tells "too large" for certain.
    return sourceText(readAtMost(fd, MAX_CONFIG_BYTES + 1), info.size);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { ok: false, reason: 'missing', message: `${file} does not exist` };
    if (code === 'EISDIR')
      return {
        ok: false,
        reason: 'unreadable',
        message: `${file} is a directory, not a config file`,
      };
    if (code === 'ENXIO') {
      // A socket cannot be opened at all; say what it is rather than "no such device".
      const info = statSync(file, { throwIfNoEntry: false });
      if (info !== undefined && !info.isFile()) return notAFile(file, info);
    }
    return {
      ok: false,
      reason: 'unreadable',
      message: `cannot read ${file}: ${(error as Error).message}`,
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads standard input as a config file, with a file's limits. Only a pipe
 * or a redirected file: the caller refuses a terminal first, where a read
 * would wait for typing that nobody knows is expected. Read as a stream, on
 * the event loop: a read of fd 0 in Node's thread pool would wait for the
 * writer in that thread, and a signal meanwhile (the writer never closes the
 * pipe) could not end modelrun, whose exit waits for its threads.
 */
export async function readStdinSource(
  input: () => NodeJS.ReadableStream = () => process.stdin,
  fd = 0,
): Promise<SourceResult> {
  try {
    const info = fstatSync(fd);
    // A folder or a block device is no config file (a stream of one would read as empty).
    if (!info.isFile() && !info.isFIFO() && !info.isSocket() && !info.isCharacterDevice())
      return notAFile('standard input', info);
    const stream = input();
    // Node streams only a stream socket; a datagram or seqpacket one it would read as empty.
    const bytes =
      info.isSocket() && !(stream instanceof Socket)
        ? await readAtMostAsync(fd, MAX_CONFIG_BYTES + 1)
        : await readAtMostStream(stream, MAX_CONFIG_BYTES + 1);
    return sourceText(bytes, 0);
  } catch (error) {
    return {
      ok: false,
      reason: 'unreadable',
      message: `cannot read standard input: ${(error as Error).message}`,
    };
  }
}

/** The text of a config file's bytes, or why they are not one: too many, or not UTF-8. */
function sourceText(bytes: Buffer, statSize: number): SourceResult {
  if (bytes.length > MAX_CONFIG_BYTES) {
    const size = Math.max(statSize, bytes.length);
    const shown = size > MAX_CONFIG_BYTES + 1 ? `is ${size} bytes` : 'is over 1 MiB';
    return {
      ok: false,
      reason: 'too-large',
      message: `file ${shown}; config files are limited to ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
    };
  }
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok) {
    return {
      ok: false,
      reason: 'unreadable',
      line: decoded.line,
      column: decoded.column,
      message: `byte 0x${decoded.byte.toString(16).padStart(2, '0')} at byte offset ${decoded.offset} is not UTF-8; config files must be UTF-8 (save the file as UTF-8, or convert it with \`iconv -f latin1 -t utf-8\`)`,
    };
  }
  return { ok: true, text: decoded.text };
}

function notAFile(file: string, info: Stats): SourceResult {
  return {
    ok: false,
    reason: 'unreadable',
    message: `${file} is ${KIND_NAMES[kindOfStats(info)]}, not a config file; give the path of a regular YAML or JSON file`,
  };
}

/**
 * At most `limit` bytes of `fd`, read in Node's thread pool: for a socket
 * that Node does not stream. A read that waits holds a thread, and a
 * signal meanwhile does not end modelrun until the writer sends or closes.
 */
async function readAtMostAsync(fd: number, limit: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(limit);
  let filled = 0;
  while (filled < limit) {
    const read = await new Promise<number>((resolve, reject) =>
      readFd(fd, buffer, filled, limit - filled, null, (error, bytes) =>
        error === null ? resolve(bytes) : reject(error),
      ),
    ).catch((error: NodeJS.ErrnoException) => {
      // A socket its writer left non-blocking has no data yet: wait a little, then read on.
      if (error.code === 'EAGAIN') return sleep(10, -1);
      throw error;
    });
    if (read === 0) break;
    if (read > 0) filled += read;
  }
  return buffer.subarray(0, filled);
}

/** At most `limit` bytes of a stream; stops reading (and ends the stream) once it has them. */
async function readAtMostStream(input: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    size += bytes.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** Reads a regular file, which never makes a read wait (standard input is readAtMostStream's). */
function readAtMost(fd: number, limit: number): Buffer {
  const buffer = Buffer.allocUnsafe(limit);
  let filled = 0;
  while (filled < limit) {
    const read = readSync(fd, buffer, filled, limit - filled, null);
    if (read === 0) break;
    filled += read;
  }
  return buffer.subarray(0, filled);
}
