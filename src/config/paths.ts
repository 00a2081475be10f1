import * as z from 'zod';
import { documented, type FieldDocs } from './fields.js';
import { type PathContext, type PathKind, resolveConfigPath } from './path-context.js';
import { markPathField } from './path-fields.js';

/** What a path is, in words for a message: "X is a named pipe (FIFO)". */
export const KIND_NAMES: Record<PathKind, string> = {
  file: 'a file',
  directory: 'a directory',
  fifo: 'a named pipe (FIFO)',
  socket: 'a socket',
  'character-device': 'a character device',
  'block-device': 'a block device',
  other: 'neither a file nor a directory',
  missing: 'missing',
  unreachable: 'unreachable',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * A path holding a NUL cannot be passed to the system at all, and one with a
 * newline or an escape sequence is a copy-paste accident or an attack on
 * whoever reads the logs; both are refused before the path is used.
 */
export function controlCharacterProblem(written: string): string | undefined {
  const match = CONTROL_CHARACTER.exec(written);
  if (match === null) return undefined;
  const code = `\\u${(match[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
  return `a path cannot hold control characters; ${JSON.stringify(written)} has ${code} at character ${match.index + 1}`;
}

/** Checks what sits at an absolute path; returns a message when it is not what is needed. */
export function checkPathKind(
  ctx: PathContext,
  written: string,
  absolute: string,
  want: 'file' | 'directory' | 'exists',
): string | undefined {
  const unusable = controlCharacterProblem(written);
  if (unusable !== undefined) return unusable;
  const kind = ctx.kindOf(absolute);
  if (kind === 'missing') {
    const where =
      written === absolute
        ? ''
        : ` (looked for ${absolute}; relative paths are resolved against the config file's folder)`;
    return `"${written}" does not exist${where}`;
  }
  if (kind === 'unreachable')
    return `"${written}" cannot be reached: it is a symlink loop, or a folder on the way may not be searched (${absolute})`;
  if (want !== 'exists' && kind !== want) {
    const fix = want === 'file' ? '; give the path of a regular file' : '';
    return `"${written}" is ${KIND_NAMES[kind]}, not ${want === 'file' ? 'a regular file' : KIND_NAMES[want]}${fix}`;
  }
  return undefined;
}

/**
 * A path resolved against the config file's folder, which must exist as the
 * given kind. The parsed value is absolute.
 */
export function existingPath(
  ctx: PathContext,
  want: 'file' | 'directory' | 'exists',
  docs: FieldDocs,
) {
  return markPathField(
    documented(z.string().min(1, { error: 'a path cannot be empty' }), docs).transform(
      (written, zctx) => {
        const absolute = resolveConfigPath(ctx, written);
        const problem = checkPathKind(ctx, written, absolute, want);
        if (problem !== undefined)
          zctx.issues.push({ code: 'custom', message: problem, input: written });
        return absolute;
      },
    ),
  );
}

/** A path resolved against the config file's folder, which need not exist yet. */
export function anyPath(ctx: PathContext, docs: FieldDocs) {
  return markPathField(
    documented(z.string().min(1, { error: 'a path cannot be empty' }), docs).transform(
      (written, zctx) => {
        const unusable = controlCharacterProblem(written);
        if (unusable !== undefined)
          zctx.issues.push({ code: 'custom', message: unusable, input: written });
        return resolveConfigPath(ctx, written);
      },
    ),
  );
}
