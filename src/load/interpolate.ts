import { isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { isHandedOver } from '../handover.js';
import type { PathSegment } from '../problems.js';
import type { PositionedDocument } from './parse-yaml.js';

export interface InterpolationProblem {
  offset: number;
  path: PathSegment[];
  message: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `${A:-${B:-${C}}}` nests; deeper than this is a mistake, and would only cost stack. */
export const MAX_DEFAULT_NESTING = 8;

export interface InterpolatedString {
  value: string;
  problems: string[];
  changed: boolean;
}

/**
 * Fills `${VAR}` and `${VAR:-default}` in one string from `env`; `$${` stands
 * for a literal `${`. As in the shell, the default also applies when the
 * variable is set but empty, may itself hold `${...}`, and is only expanded
 * when it is used.
 */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): InterpolatedString {
  return expand(text, env, 0);
}

function expand(text: string, env: NodeJS.ProcessEnv, depth: number): InterpolatedString {
  const problems: string[] = [];
  let changed = false;
  let value = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) break;
    value += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      changed = true;
      value += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      value += '$';
      i = dollar + 1;
      continue;
    }
    changed = true;
    const close = closingBrace(text, dollar + 2);
    if (close === -1) {
      // Everything after an unclosed "${" is part of it; reading on would only add noise.
      problems.push('"${" is not closed; write ${NAME}, or $${ for a literal "${"');
      value += text.slice(dollar);
      i = text.length;
      break;
    }
    const inner = text.slice(dollar + 2, close);
    i = close + 1;
    const reference = resolve(inner, env, depth);
    problems.push(...reference.problems);
    value += reference.value;
  }
  value += text.slice(i);
  return { value, problems, changed };
}

/** Fills one `${...}` whose inside is `inner`. */
function resolve(
  inner: string,
  env: NodeJS.ProcessEnv,
  depth: number,
): { value: string; problems: string[] } {
  const separator = inner.indexOf(':-');
  const name = separator === -1 ? inner : inner.slice(0, separator);
  const written = `\${${inner}}`;
  if (!NAME.test(name)) {
    return {
      value: written,
      problems: [
        `"${written}" is not a variable reference; write \${NAME} or \${NAME:-default}, or $\${ for a literal "\${"`,
      ],
    };
  }
  // modelrun's own hand-over variables (a supervisor's --set values among
  // them, secrets too) are not the user's: a config reads them as unset,
  // detached or not.
  const own = isHandedOver(name);
  const found = own ? undefined : env[name];
  if (separator !== -1) {
    if (found !== undefined && found !== '') return { value: found, problems: [] };
    if (depth >= MAX_DEFAULT_NESTING) {
      return {
        value: written,
        problems: [
          `the default of \${${name}} nests \${...} more than ${MAX_DEFAULT_NESTING} levels deep`,
        ],
      };
    }
    const fallback = expand(inner.slice(separator + 2), env, depth + 1);
    return { value: fallback.value, problems: fallback.problems };
  }
  if (found === undefined) {
    return {
      value: written,
      problems: [
        own
          ? `${name} is modelrun's own variable, which it hands a modelrun it starts in the background; a config cannot read it`
          : `environment variable ${name} is not set; set it, or give a default with \${${name}:-value}`,
      ],
    };
  }
  return { value: found, problems: [] };
}

/** The `}` that closes a `${` whose inside starts at `from`, skipping nested `${...}` and `$${...}`. */
function closingBrace(text: string, from: number): number {
  let open = 0;
  for (let j = from; j < text.length; j++) {
    // A literal "$${" inside a default is closed by its own "}", like a reference.
    if (text.startsWith('$${', j)) {
      open++;
      j += 2;
    } else if (text.startsWith('${', j)) {
      open++;
      j++;
    } else if (text[j] === '}') {
      if (open === 0) return j;
      open--;
    }
  }
  return -1;
}

/**
 * Interpolates every string value (never a key) of the document in place.
 * The result is always the text the environment held: it is not read again
 * as YAML, so `abc #def` stays whole and `007` keeps its zeros. Where the
 * schema wants a number or a boolean, the validator converts it (see
 * convert-interpolated.ts). Returns the problems, the paths whose values
 * came from the environment, each with the text written in the file, and
 * `restore`, which puts that text back.
 */
export function interpolateDocument(
  parsed: PositionedDocument,
  env: NodeJS.ProcessEnv,
): { problems: InterpolationProblem[]; interpolated: Map<string, string>; restore(): void } {
  const problems: InterpolationProblem[] = [];
  const interpolated = new Map<string, string>();
  const written: [Scalar, string][] = [];
  // An explicit stack, not the yaml visitor: the visitor finds a list item's
  // index by searching the list, which is quadratic in long lists.
  const stack: { node: unknown; path: PathSegment[] }[] = [{ node: parsed.doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: PathSegment[] };
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        stack.push({ node: pair.value, path: [...path, key] });
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries())
        stack.push({ node: item, path: [...path, index] });
    } else if (isScalar(node) && typeof node.value === 'string') {
      const result = interpolateString(node.value, env);
      if (!result.changed) continue;
      for (const message of result.problems)
        problems.push({ offset: node.range?.[0] ?? 0, path, message });
      interpolated.set(JSON.stringify(path), node.value);
      written.push([node, node.value]);
      node.value = result.value;
    }
  }
  const restore = () => {
    for (const [node, text] of written) node.value = text;
  };
  return { problems, interpolated, restore };
}

/**
 * Fills `${NAME}` in every string of a value given on the command line (a
 * `--set`), as in a file. Returns the value filled, the problems, and the
 * paths (JSON, under `at`) whose text came from the environment, with what
 * was written.
 */
export function interpolateValue(
  value: unknown,
  at: readonly PathSegment[],
  env: NodeJS.ProcessEnv,
): {
  value: unknown;
  problems: { path: PathSegment[]; message: string }[];
  interpolated: Map<string, string>;
} {
  const problems: { path: PathSegment[]; message: string }[] = [];
  const interpolated = new Map<string, string>();
  const fill = (inner: unknown, path: PathSegment[]): unknown => {
    if (typeof inner === 'string') {
      const result = interpolateString(inner, env);
      if (!result.changed) return inner;
      for (const message of result.problems) problems.push({ path, message });
      interpolated.set(JSON.stringify(path), inner);
      return result.value;
    }
    if (Array.isArray(inner)) return inner.map((item, i) => fill(item, [...path, i]));
    if (inner !== null && typeof inner === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(inner))
        Object.defineProperty(out, key, {
          value: fill(item, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    }
    return inner;
  };
  return { value: fill(value, [...at]), problems, interpolated };
}
