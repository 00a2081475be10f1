import { isAbsolute } from 'node:path';
import * as z from 'zod';
import { documented } from './fields.js';
import type { PathContext } from './path-context.js';
import { resolveConfigPath } from './path-context.js';
import { markPathField, rebasePath } from './path-fields.js';
import { checkPathKind, controlCharacterProblem } from './paths.js';

/** A host path made visible inside a container. */
export interface Mount {
  source: string;
  target: string;
  /** Docker's mode string ("ro", "rw,Z"…), or Apptainer's "ro"/"rw"; absent when not given. */
  mode?: string;
}

const DOCKER_MODE = '(?:(?:ro|rw)(?:,[zZ])?|[zZ](?:,(?:ro|rw))?)';
export const VOLUME_PATTERN = new RegExp(`^[^:]+:/[^:]*(?::${DOCKER_MODE})?$`);
/** Apptainer reads --bind as a ','-separated list, so a bind cannot contain ','. */
export const BIND_PATTERN = /^[^:,]+(?::\/[^:,]*(?::(?:ro|rw))?)?$/;

interface MountSyntax {
  name: string;
  form: string;
  modes: string;
  modePattern: RegExp;
  targetRequired: boolean;
}

const DOCKER_VOLUME: MountSyntax = {
  name: 'volume',
  form: 'host_path:container_path[:ro|rw]',
  modes: 'ro or rw, optionally with z or Z for SELinux (such as "ro,Z")',
  modePattern: new RegExp(`^${DOCKER_MODE}$`),
  targetRequired: true,
};

const APPTAINER_BIND: MountSyntax = {
  name: 'bind',
  form: 'src[:dst[:ro|rw]]',
  modes: 'ro or rw',
  modePattern: /^(?:ro|rw)$/,
  targetRequired: false,
};

/** Says what is wrong with a mount spec, in terms the user wrote it in. */
function diagnose(spec: unknown, syntax: MountSyntax): string {
  if (typeof spec !== 'string')
    return `each ${syntax.name} must be a string of the form ${syntax.form}`;
  const parts = spec.split(':');
  const [source = '', target, mode] = parts;
  if (parts.length === 1 && syntax.targetRequired) {
    return `${syntax.name} "${spec}" is missing ':' between the host path and the container path; write it as ${syntax.form}`;
  }
  if (parts.length > 3)
    return `${syntax.name} "${spec}" has too many ':'; write it as ${syntax.form}`;
  if (source === '')
    return `${syntax.name} "${spec}" has an empty host path; write it as ${syntax.form}`;
  if (syntax.name === 'bind' && spec.includes(',')) {
    return `bind "${spec}" contains ",", which Apptainer reads as a separator between binds; give each bind its own entry`;
  }
  if (target !== undefined && !isAbsolute(target)) {
    return `${syntax.name} "${spec}": the container path "${target}" must be absolute, such as "/data"`;
  }
  if (mode !== undefined && !syntax.modePattern.test(mode)) {
    return `${syntax.name} "${spec}": mode "${mode}" is not valid; use ${syntax.modes}`;
  }
  return `${syntax.name} "${spec}" is not of the form ${syntax.form}`;
}

function mountList(
  ctx: PathContext,
  syntax: MountSyntax,
  pattern: RegExp,
  docs: { description: string; examples: unknown[] },
) {
  const entry = markPathField(
    z
      .string({ error: (issue) => diagnose(issue.input, syntax) })
      .regex(pattern, { error: (issue) => diagnose(issue.input, syntax) })
      .meta({ patternErrorMessage: `a ${syntax.name} must be written as ${syntax.form}` })
      .transform((spec, zctx): Mount => {
        const [written = '', target, mode] = spec.split(':');
        const source = resolveConfigPath(ctx, written);
        const problem = checkPathKind(ctx, written, source, 'exists');
        if (problem !== undefined) {
          zctx.issues.push({ code: 'custom', message: `host path ${problem}`, input: spec });
        }
        const unusable = target === undefined ? undefined : controlCharacterProblem(target);
        if (unusable !== undefined) {
          zctx.issues.push({ code: 'custom', message: `container path: ${unusable}`, input: spec });
        }
        return { source, target: target ?? source, ...(mode === undefined ? {} : { mode }) };
      }),
    rebaseMountSource,
  );
  return documented(z.array(entry), docs).optional();
}

/** Only the host path of `host[:container[:mode]]` is a path of the config's folder. */
export function rebaseMountSource(spec: string, dir: string): string {
  const colon = spec.indexOf(':');
  const host = colon === -1 ? spec : spec.slice(0, colon);
  return rebasePath(host, dir) + spec.slice(host.length);
}

export function volumeList(ctx: PathContext) {
  return mountList(ctx, DOCKER_VOLUME, VOLUME_PATTERN, {
    description:
      "Host folders to mount, as host_path:container_path[:mode] with mode ro or rw (z or Z for SELinux). The host path must exist; relative host paths are resolved against this config file's folder.",
    examples: [['/tmp:/scratch:rw']],
  });
}

export function bindList(ctx: PathContext) {
  return mountList(ctx, APPTAINER_BIND, BIND_PATTERN, {
    description:
      "Host paths to bind into the container, as src[:dst[:ro|rw]]; dst defaults to the same path as src. src must exist; relative paths are resolved against this config file's folder.",
    examples: [['/tmp:/scratch:rw']],
  });
}

/** An absolute path inside a container. */
export function containerPath(docs: { description: string; examples: unknown[] }) {
  return documented(
    // Bind specs separate paths with ':' and Apptainer's list them with ',', so neither may appear.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused too.
    z.string().regex(/^\/[^\s,:\u0000-\u001f\u007f]*$/, {
      error:
        'must be an absolute path inside the container without spaces, control characters, "," or ":", such as "/app/run"',
    }),
    docs,
  );
}
