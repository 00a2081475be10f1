import * as z from 'zod';
import { documented, type FieldDocs } from './fields.js';
import { type PathContext, type PathKind, resolveConfigPath } from './path-context.js';

const KIND_NAMES: Record<PathKind, string> = {
  file: 'a file',
  directory: 'a directory',
  other: 'neither a file nor a directory',
  missing: 'missing',
};

/** Checks what sits at an absolute path; returns a message when it is not what is needed. */
export function checkPathKind(
  ctx: PathContext,
  written: string,
  absolute: string,
  want: 'file' | 'directory' | 'exists',
): string | undefined {
  const kind = ctx.kindOf(absolute);
  if (kind === 'missing') {
    const where =
      written === absolute
        ? ''
        : ` (looked for ${absolute}; relative paths are resolved against the config file's folder)`;
    return `"${written}" does not exist${where}`;
  }
  if (want !== 'exists' && kind !== want) {
    return `"${written}" is ${KIND_NAMES[kind]}, not ${KIND_NAMES[want]}`;
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
  return documented(z.string().min(1, { error: 'a path cannot be empty' }), docs).transform(
    (written, zctx) => {
      const absolute = resolveConfigPath(ctx, written);
      const problem = checkPathKind(ctx, written, absolute, want);
      if (problem !== undefined)
        zctx.issues.push({ code: 'custom', message: problem, input: written });
      return absolute;
    },
  );
}

/** A path resolved against the config file's folder, which need not exist yet. */
export function anyPath(ctx: PathContext, docs: FieldDocs) {
  return documented(z.string().min(1, { error: 'a path cannot be empty' }), docs).transform(
    (written) => resolveConfigPath(ctx, written),
  );
}
