import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/** Config files nest a few levels; a hundred is a mistake or an attack. */
export const MAX_NESTING = 100;

const CORE = 'tag:yaml.org,2002:';
/**
 * The tags of YAML's core schema, which only restate a type YAML already
 * knows. Anything else (`!include`, `!!binary`, `!!timestamp`, a custom
 * `!env`) would be dropped or turned into a value no schema expects, so it
 * is refused rather than silently read as text.
 */
const ALLOWED_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => CORE + name),
);

export interface StructureProblem {
  offset: number;
  message: string;
}

/**
 * Checks what the parser lets through: unsupported tags, repeated keys and
 * deep nesting. Iterative, and linear in the number of nodes: the parser's own
 * unique-key check compares each key with every earlier one, which takes
 * minutes on a file with tens of thousands of keys.
 */
export function checkStructure(doc: Document.Parsed, lineCounter: LineCounter): StructureProblem[] {
  const problems: StructureProblem[] = [];
  const unresolved = new Set(
    doc.warnings
      .filter((w) => w.code === 'TAG_RESOLVE_FAILED')
      .map((w) => lineCounter.linePos(w.pos[0]).line),
  );
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (node === null || typeof node !== 'object') continue;
    const offset = (node as Node).range?.[0] ?? 0;
    const tag = (node as Node).tag;
    if (tag !== undefined && tag !== '!') {
      if (!ALLOWED_TAGS.has(tag)) {
        problems.push({
          offset,
          message: `YAML tag ${shortTag(tag)} is not supported; modelrun reads plain values only (remove the tag, or quote the value if it is text)`,
        });
      } else if (isScalar(node) && unresolved.has(lineCounter.linePos(offset).line)) {
        problems.push({
          offset,
          message: `the value does not fit its YAML tag ${shortTag(tag)}; remove the tag`,
        });
      }
    }
    if (depth > MAX_NESTING && (isMap(node) || isSeq(node))) {
      problems.push({ offset, message: nestingMessage() });
      break;
    }
    if (isAlias(node) && node.resolve(doc) === undefined) {
      problems.push({
        offset,
        message: `alias *${node.source} is not defined; an alias repeats a value marked with &${node.source} earlier in the file (add the anchor, or write the value out)`,
      });
    }
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (key !== null && !isScalar(key)) {
          // A list, mapping or alias as a key would be turned into text, with a raw warning.
          problems.push({
            offset: key.range?.[0] ?? offset,
            message:
              'a key must be plain text, not a list, mapping or alias; write the key as text (remove the "?" or the brackets)',
          });
          stack.push({ node: pair.value, depth: depth + 1 });
          continue;
        }
        if (isScalar(key)) {
          const name = String(key.value);
          const keyOffset = key.range?.[0] ?? offset;
          if (name === '__proto__') {
            // JavaScript objects cannot hold this key safely: a record drops it, and an
            // assignment would replace the object's prototype. No config needs it.
            problems.push({
              offset: keyOffset,
              message: 'key "__proto__" is not allowed; no config field or variable has this name',
            });
          }
          const first = seen.get(name);
          if (first === undefined) seen.set(name, keyOffset);
          else {
            problems.push({
              offset: keyOffset,
              message: `key "${name}" appears twice in this mapping (first on line ${lineCounter.linePos(first).line}); keep one`,
            });
          }
        }
        stack.push({ node: pair.key, depth: depth + 1 }, { node: pair.value, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

export function nestingMessage(): string {
  return `the file nests lists or mappings more than ${MAX_NESTING} levels deep; a config file needs only a few`;
}

function shortTag(tag: string): string {
  return tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag;
}
