import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

/** Config files are small; anything bigger is a mistake or an attack, and is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type SourceResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'missing' | 'unreadable' | 'too-large'; message: string };

/**
 * Reads a config file, checking its size on the open descriptor first.
 * Synchronous on purpose: CI validates a thousand small files in one call,
 * and the promise round trips cost more than the reads.
 */
export function readSource(file: string): SourceResult {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const info = fstatSync(fd);
    if (info.isDirectory()) {
      return {
        ok: false,
        reason: 'unreadable',
        message: `${file} is a directory, not a config file`,
      };
    }
    if (info.size > MAX_CONFIG_BYTES) {
      return {
        ok: false,
        reason: 'too-large',
        message: `file is ${info.size} bytes; config files are limited to ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
      };
    }
    return { ok: true, text: readFileSync(fd, 'utf8') };
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
    return {
      ok: false,
      reason: 'unreadable',
      message: `cannot read ${file}: ${(error as Error).message}`,
    };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
