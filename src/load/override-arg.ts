import { parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import type { PathSegment } from '../problems.js';
import { isSecretName, MASK } from '../secrets.js';
import { MAX_ALIAS_COUNT } from './parse-yaml.js';

/**
 * One `--set PATH=VALUE` (or `--set-string`) from the command line: which
 * file it overrides, where in it, and the value, read as YAML.
 */
export interface Override {
  flag: OverrideFlag;
  /** PATH=VALUE as given: what loads the run again later (a detached run's `wait`). */
  text: string;
  /** Its key names a secret (API_TOKEN): the text is never written down. */
  secret: boolean;
  /**
   * The argument as the user wrote it, flag included, for messages and the
   * run record: `--set backend.cpu=4`; with its value masked when its key
   * names a secret (`--set backend.env_vars.API_TOKEN=***`), as messages
   * reach logs.
   */
  arg: string;
  /** The model file (or a pipeline's model), or with a `backend.` prefix the backend config. */
  target: 'model' | 'backend';
  /**
   * Where in the target: keys, and numbers for list items. A segment of
   * digits written without quotes is a number; it indexes a list, and is a
   * key like any other in a mapping.
   */
  path: PathSegment[];
  /** The value; `null` removes the key. */
  value: unknown;
}

export type OverrideFlag = '--set' | '--set-string';

const USAGE_HINT =
  'write it as PATH=VALUE, such as --set config.depth_m=10 or --set backend.memory=4g; quote a key that holds a dot: --set \'config."a.b"=1\'';

/**
 * Reads `PATH=VALUE`. PATH is dotted (`config.depth_m`, `postprocess.0.format`);
 * a key holding dots or `=` is quoted, `"a.b"` or `'a.b'`. VALUE is a YAML
 * scalar or flow value (`10`, `"10"`, `[1, 2]`, `{a: 1}`, `null`), or with
 * `--set-string` the text as it is. An empty VALUE is the empty text.
 */
export function parseOverride(flag: OverrideFlag, text: string): Override {
  const { segments, rest } = readPath(text, `${flag} ${text}`);
  const last = segments[segments.length - 1];
  const secret = typeof last === 'string' && isSecretName(last) && rest.length > 1;
  const arg = secret
    ? `${flag} ${text.slice(0, text.length - rest.length)}=${MASK}`
    : `${flag} ${text}`;
  if (!rest.startsWith('='))
    throw new UsageError(`${arg}: no "=" after the path`, { hint: USAGE_HINT });
  const written = rest.slice(1);
  const [first, ...inner] = segments;
  const backend = first === 'backend' && segments.length > 1;
  const path = backend ? inner : segments;
  if (first === 'backend' && segments.length === 1)
    throw new UsageError(`${arg}: a backend override names a field, such as backend.memory`, {
      hint: USAGE_HINT,
    });
  return {
    flag,
    text,
    secret,
    arg,
    target: backend ? 'backend' : 'model',
    path,
    value: flag === '--set-string' ? written : readValue(written, arg),
  };
}

/** The path's segments, and what follows it (`=VALUE`, when well formed). */
function readPath(text: string, arg: string): { segments: PathSegment[]; rest: string } {
  const segments: PathSegment[] = [];
  let at = 0;
  for (;;) {
    const quote = text[at];
    let segment: PathSegment;
    if (quote === '"' || quote === "'") {
      const end = text.indexOf(quote, at + 1);
      if (end === -1)
        throw new UsageError(`${arg}: the quoted key opened at character ${at + 1} is not closed`, {
          hint: USAGE_HINT,
        });
      segment = text.slice(at + 1, end);
      at = end + 1;
    } else {
      const match = /^[^.="']*/.exec(text.slice(at));
      const plain = match?.[0] ?? '';
      at += plain.length;
      segment = /^\d+$/.test(plain) ? Number(plain) : plain;
    }
    if (segment === '')
      throw new UsageError(
        `${arg}: ${segments.length === 0 ? 'the path is empty' : `an empty key after "${segments.join('.')}"`}`,
        { hint: USAGE_HINT },
      );
    segments.push(segment);
    if (text[at] !== '.') return { segments, rest: text.slice(at) };
    at += 1;
  }
}

/** VALUE as YAML: one scalar or flow value, as it would be written after `key: ` in a file. */
function readValue(written: string, arg: string): unknown {
  if (written === '') return '';
  const doc = parseDocument(written, { prettyErrors: false, uniqueKeys: true });
  const problem = doc.errors[0]?.message.split('\n')[0];
  if (problem !== undefined)
    throw new UsageError(`${arg}: the value is not valid YAML: ${problem}`, {
      hint: 'quote text that YAML would read otherwise, such as --set \'run_id="a: b"\', or use --set-string to take the value as text',
    });
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new UsageError(`${arg}: ${(error as Error).message}`, { hint: USAGE_HINT });
  }
}
