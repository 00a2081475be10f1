import { isMap, isPair, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PathSegment } from '../problems.js';
import type { PositionedDocument } from './parse-yaml.js';

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
      const pair = pairsOf(node).get(String(segment));
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

// Built once per mapping: a file with many errors in one big mapping would
// otherwise search the mapping once per error.
const pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairsOf(map: YAMLMap): Map<string, Pair> {
  let index = pairIndex.get(map);
  if (index === undefined) {
    index = new Map();
    for (const item of map.items) {
      if (isPair(item) && isScalar(item.key) && !index.has(String(item.key.value)))
        index.set(String(item.key.value), item);
    }
    pairIndex.set(map, index);
  }
  return index;
}
