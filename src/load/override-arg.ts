import { LineCounter, parseDocument } from 'yaml';
import { NON_FINITE_FIX, nonFiniteIn, nonFiniteMessage } from '../config/finite-value.js';
import { UsageError } from '../errors.js';
import { formatPath, type PathSegment } from '../problems.js';
import { isSecretName, MASK } from '../secrets.js';
import { holdsItself, MAX_ALIAS_COUNT, SELF_ALIAS } from './parse-yaml.js';
import { checkStructure } from './yaml-structure.js';

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
  /**
   * Where a file wrote it (an ensemble's member values): problems it causes
   * are placed there, naming `arg`. Its `${NAME}`s were filled as that file
   * was read, so they are not filled again.
   */
  writtenAt?: { file: string; line: number; column: number };
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
  const written = `${flag} ${shorten(text)}`;
  // An argument that names a secret is shown without what follows its first `=`, even malformed.
  const equals = text.indexOf('=');
  const unread =
    isSecretName(text) && equals !== -1
      ? `${flag} ${shorten(text.slice(0, equals))}=${MASK}`
      : written;
  const { segments, rest } = readPath(text, unread);
  refuseDeepPath(segments, unread);
  if (!rest.startsWith('='))
    throw new UsageError(`${unread}: no "=" after the path`, { hint: USAGE_HINT });
  const raw = rest.slice(1);
  const pathText = text.slice(0, text.length - rest.length);
  const masked = `${flag} ${pathText}=${MASK}`;
  // Until the value is read, an argument that names a secret anywhere is shown without its value.
  const shown = isSecretName(text) ? masked : written;
  const { target, path } = targetOf(segments, shown);
  const value = flag === '--set-string' ? raw : readValue(raw, shown);
  // A secret-named key on the path or in the value: the value is never shown.
  const secret =
    raw !== '' &&
    (segments.some((s) => typeof s === 'string' && isSecretName(s)) || holdsSecret(value));
  return {
    flag,
    text,
    secret,
    arg: secret ? masked : written,
    target,
    path,
    value,
  };
}

/** Arguments are shown whole up to this length, and cut with their length given beyond it. */
const SHOWN_CHARS = 200;

function shorten(text: string): string {
  return text.length <= SHOWN_CHARS
    ? text
    : `${text.slice(0, SHOWN_CHARS - 40)}… (${text.length} characters)`;
}

/**
 * Which file a path is in, and where in it: the backend config after
 * `backend.`, else the model. Refuses what a file could not hold either.
 */
function targetOf(
  segments: PathSegment[],
  shown: string,
): { target: Override['target']; path: PathSegment[] } {
  const [first, ...inner] = segments;
  if (first === 'backend' && inner.length === 0)
    throw new UsageError(`${shown}: a backend override names a field, such as backend.memory`, {
      hint: USAGE_HINT,
    });
  const target = first === 'backend' ? 'backend' : 'model';
  const path = target === 'backend' ? inner : segments;
  if (segments.includes('__proto__'))
    throw new UsageError(`${shown}: a key cannot be __proto__, as in a file`, { hint: USAGE_HINT });
  if (path[0] === 'extends')
    throw new UsageError(`${shown}: bases are named in the file, not on the command line`, {
      hint: 'write extends: in the file, or a file of your own that extends it and sets the values',
    });
  return { target, path };
}

/** More keys than this on one path is no config's: files nest at most as deep. */
export const MAX_PATH_DEPTH = 64;

function refuseDeepPath(segments: readonly PathSegment[], shown: string): void {
  if (segments.length > MAX_PATH_DEPTH)
    throw new UsageError(
      `${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}: a path of ${segments.length} keys; at most ${MAX_PATH_DEPTH}`,
      { hint: 'no config nests that deep: check the path' },
    );
}

/** Whether a value holds a secret-named key, at any depth. */
export function holdsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, inner]) => isSecretName(key) || holdsSecret(inner));
}

/**
 * A path as `--set` writes it (`config.depth_m`, `postprocess.0.format`,
 * `backend.memory`), by itself: for files that name paths the same way (an
 * ensemble's `parameters:`). `shown` names it in the UsageError a malformed
 * one throws.
 */
export function parsePath(
  text: string,
  shown: string,
): { target: Override['target']; path: PathSegment[] } {
  const { segments, rest } = readPath(text, shown);
  refuseDeepPath(segments, shown);
  if (rest !== '')
    throw new UsageError(`${shown}: "${rest}" after the path`, {
      hint: 'write a dotted path such as config.depth_m; quote a key that holds a dot',
    });
  return targetOf(segments, shown);
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
  const lineCounter = new LineCounter();
  const doc = parseDocument(written, { prettyErrors: false, uniqueKeys: false, lineCounter });
  const problem =
    doc.errors[0]?.message.split('\n')[0] ?? checkStructure(doc, lineCounter)[0]?.message;
  if (problem !== undefined)
    throw new UsageError(`${arg}: the value is not valid YAML: ${problem}`, {
      hint: 'quote text that YAML would read otherwise, such as --set \'run_id="a: b"\', or use --set-string to take the value as text',
    });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new UsageError(`${arg}: ${(error as Error).message}`, { hint: USAGE_HINT });
  }
  if (holdsItself(value)) throw new UsageError(`${arg}: ${SELF_ALIAS}`, { hint: USAGE_HINT });
  const infinite = nonFiniteIn(value);
  if (infinite !== undefined)
    throw new UsageError(
      `${arg}: the value${infinite.path.length === 0 ? '' : `'s ${formatPath(infinite.path)}`} ${nonFiniteMessage(infinite.what)}`,
      { hint: `${NON_FINITE_FIX}, or use --set-string` },
    );
  // Only null written as such removes a key: YAML also reads a comment (#ff0000) or `...` as null.
  if (value === null && !/^\s*(?:null|Null|NULL|~)\s*$/.test(written))
    throw new UsageError(
      `${arg}: YAML reads this value as empty (a # starts a comment; ..., --- and !!null are empty too)`,
      {
        hint: `quote it, such as --set 'config.color="#ff0000"', or use --set-string; write null to remove the key`,
      },
    );
  return value;
}
