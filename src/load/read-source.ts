import { readFile, stat } from 'node:fs/promises';

/** Config files are small; anything bigger is a mistake or an attack, and is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type SourceResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'missing' | 'unreadable' | 'too-large'; message: string };

export async function readSource(file: string): Promise<SourceResult> {
  try {
    const info = await stat(file);
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
    return { ok: true, text: await readFile(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? { ok: false, reason: 'missing', message: `${file} does not exist` }
      : {
          ok: false,
          reason: 'unreadable',
          message: `cannot read ${file}: ${(error as Error).message}`,
        };
  }
}
