import { isPair, isScalar, isSeq, parseDocument, type Scalar, visit } from 'yaml';
import type { PositionedDocument } from './parse-yaml.js';
import type { PathSegment } from './problems.js';

export interface InterpolationProblem {
  offset: number;
  path: PathSegment[];
  message: string;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Fills `${VAR}` and `${VAR:-default}` in one string from `env`; `$${` stands
 * for a literal `${`. As in the shell, the default also applies when the
 * variable is set but empty.
 */
export function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
): { value: string; problems: string[]; changed: boolean } {
  const problems: string[] = [];
  let changed = false;
  const value = text.replace(REFERENCE, (match, inner: string | undefined) => {
    changed = true;
    if (match === '$${') return '${';
    if (inner === undefined) {
      problems.push('"${" is not closed; write ${NAME}, or $${ for a literal "${"');
      return match;
    }
    const separator = inner.indexOf(':-');
    const name = separator === -1 ? inner : inner.slice(0, separator);
    if (!NAME.test(name)) {
      problems.push(
        `"\${${inner}}" is not a variable reference; write \${NAME} or \${NAME:-default}, or $\${ for a literal "\${"`,
      );
      return match;
    }
    const found = env[name];
    if (separator !== -1)
      return found === undefined || found === '' ? inner.slice(separator + 2) : found;
    if (found === undefined) {
      problems.push(
        `environment variable ${name} is not set; set it, or give a default with \${${name}:-value}`,
      );
      return match;
    }
    return found;
  });
  return { value, problems, changed };
}

/**
 * Interpolates every string value (never a key) of the document in place.
 * An unquoted value is read again as YAML, so `cpu: ${NCPU:-4}` gives the
 * number 4, as it would have had the user typed it; a quoted one stays text.
 * Returns the problems and the paths whose values came from the environment.
 */
export function interpolateDocument(
  parsed: PositionedDocument,
  env: NodeJS.ProcessEnv,
): { problems: InterpolationProblem[]; interpolated: Set<string> } {
  const problems: InterpolationProblem[] = [];
  const interpolated = new Set<string>();
  visit(parsed.doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const result = interpolateString(node.value, env);
      if (!result.changed) return;
      const path = pathOf(ancestry, node);
      for (const message of result.problems)
        problems.push({ offset: node.range?.[0] ?? 0, path, message });
      interpolated.add(JSON.stringify(path));
      node.value = node.type === 'PLAIN' ? retype(result.value) : result.value;
    },
  });
  return { problems, interpolated };
}

function retype(text: string): unknown {
  const reparsed = parseDocument(text);
  return reparsed.errors.length === 0 && isScalar(reparsed.contents)
    ? reparsed.contents.value
    : text;
}

/** The data path of a node, from the visitor's ancestry of documents, pairs and collections. */
function pathOf(ancestry: readonly unknown[], node: Scalar): PathSegment[] {
  const path: PathSegment[] = [];
  const chain = [...ancestry, node];
  chain.forEach((parent, i) => {
    const child = chain[i + 1];
    if (isPair(parent) && child === parent.value) {
      path.push(isScalar(parent.key) ? String(parent.key.value) : String(parent.key));
    } else if (isSeq(parent)) {
      path.push(parent.items.indexOf(child as never));
    }
  });
  return path;
}
