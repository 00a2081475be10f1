import { isMap, isPair, isScalar, isSeq, type Node } from 'yaml';
import type { PositionedDocument } from './parse-yaml.js';
import type { PathSegment } from './problems.js';

/**
 * Finds where a data path was written: the value's node, or the key's node
 * when `at` is 'key'. A path that does not exist (a missing required key)
 * points at the deepest part of it that does.
 */
export function locate(
  { doc, lineCounter }: PositionedDocument,
  path: readonly PathSegment[],
  at: 'key' | 'value' = 'value',
): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) break;
      const target = last && at === 'key' ? pair.key : (pair.value ?? pair.key);
      node = target;
      offset = (target as Node | null)?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}
