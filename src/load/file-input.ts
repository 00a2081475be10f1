import { join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { UsageError } from '../errors.js';
import { readStdinSource, type SourceResult, STDIN_NAME } from './read-source.js';

/** The file argument that means standard input. */
export const STDIN_ARG = '-';

export interface FileInput {
  /** The path read, or for standard input a name in the current folder that places its relative paths. */
  path: string;
  /** The name messages use: as the user wrote it, or <stdin>. */
  display: string;
  /** Standard input, already read. */
  source?: SourceResult;
}

/**
 * Where a file argument is read from: a path against `cwd`, or for `-`
 * standard input, read as if it were a file in the current folder, so
 * relative paths in it (template, output_dir, a pipeline's model:) resolve
 * against the current folder. `stdin` is standard input as
 * readStdinArgument read it, for the argument that named it.
 */
export function fileInput(arg: string, cwd: string, stdin?: SourceResult): FileInput {
  if (arg !== STDIN_ARG) return { path: resolve(cwd, arg), display: arg };
  if (stdin === undefined)
    throw new UsageError('`-` (standard input) cannot be read here', {
      hint: 'give the file by its path',
    });
  return { path: join(cwd, STDIN_NAME), display: STDIN_NAME, source: stdin };
}

/**
 * Reads standard input when one of a command's file arguments is `-`, once,
 * before any file is loaded. It can be read only once, so one command takes
 * at most one `-`; and a terminal is refused rather than read: the command
 * would wait for typing nobody knows is expected.
 */
export async function readStdinArgument(
  ...args: (string | string[] | undefined)[]
): Promise<SourceResult | undefined> {
  const dashes = args.flat().filter((arg) => arg === STDIN_ARG).length;
  if (dashes === 0) return undefined;
  if (dashes > 1)
    throw new UsageError(
      `\`-\` (standard input) is given ${dashes} times; it can be read only once`,
      {
        hint: 'pass at most one file as `-`, and the others by their paths',
      },
    );
  if (isatty(STDIN_FD))
    throw new UsageError('`-` reads standard input, but it is a terminal', {
      hint: 'pipe or redirect the file into modelrun, such as `modelrun validate - < model.yml`',
    });
  return readStdinSource();
}

const STDIN_FD = 0;

/** The options that hand a read standard input on to the loaders. */
export const sourceOf = (input: FileInput) =>
  input.source === undefined ? {} : { source: input.source };
