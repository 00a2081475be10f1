import { describeValue } from '../config/fields.js';
import { count } from '../plural.js';
import { formatPath, type PathSegment } from '../problems.js';
import { isRecord } from '../records.js';

/**
 * Config layers merged into one value, each part remembering the layer that
 * wrote it: maps merge key by key, anything else (a list, a scalar, a map
 * over a non-map) replaces what was there, and `null` removes what a layer
 * below set. A `null` with nothing below it stays, for the schema to refuse
 * as it would in a file of its own: `timeout:` with its value forgotten is
 * a mistake to report, not a default to take.
 */

/** One layer's data, and where its root sits in the merged value (a pipeline's `backend:` section). */
export interface LayerData {
  data: Record<string, unknown>;
  at?: readonly PathSegment[];
}

export interface Merged {
  data: Record<string, unknown>;
  /**
   * The layer that wrote the value at `path`, or that removed it: that of
   * the nearest part of the path a layer set. Undefined above every layer's
   * root (nothing wrote it).
   */
  layerOf(path: readonly PathSegment[]): number | undefined;
  /**
   * Sets one value, as a layer of its own above the others (a `--set`):
   * maps on the way are made when missing, list items are addressed by
   * number (the next number appends), and `null` removes the key or item.
   * Returns why the path cannot be set, if it cannot.
   */
  set(path: readonly PathSegment[], value: unknown, layer: number): string | undefined;
}

interface OriginNode {
  layer?: number;
  children: Map<PathSegment, OriginNode>;
}

export function mergeLayers(layers: readonly LayerData[]): Merged {
  const [only] = layers;
  // One file and nothing over it, as most are: its data is the value, uncopied.
  if (layers.length === 1 && only !== undefined && (only.at ?? []).length === 0)
    return merged(only.data, { layer: 0, children: new Map() });
  const data: Record<string, unknown> = {};
  const origins: OriginNode = { children: new Map() };
  for (const [layer, { data: source, at = [] }] of layers.entries()) {
    let target = data;
    let node = origins;
    for (const key of at) {
      const next = own(target, String(key));
      if (!isRecord(next)) {
        setKey(target, String(key), {});
        node = replaced(node, key, layer);
      } else node = child(node, key);
      target = own(target, String(key)) as Record<string, unknown>;
    }
    mergeInto(target, source, node, layer);
  }
  return merged(data, origins);
}

function merged(data: Record<string, unknown>, origins: OriginNode): Merged {
  return {
    data,
    layerOf(path) {
      let node: OriginNode | undefined = origins;
      let layer = origins.layer;
      for (const segment of path) {
        node = node.children.get(segment) ?? node.children.get(String(segment));
        if (node === undefined) break;
        layer = node.layer ?? layer;
      }
      return layer;
    },
    set(path, value, layer) {
      return setPath(data, origins, path, value, layer);
    },
  };
}

function setPath(
  data: Record<string, unknown>,
  origins: OriginNode,
  path: readonly PathSegment[],
  value: unknown,
  layer: number,
): string | undefined {
  let target: unknown = data;
  let node = origins;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    const here = formatPath(path.slice(0, i));
    if (Array.isArray(target)) {
      if (typeof segment !== 'number')
        return `${here} is a list: address its items by number, such as ${here}.0`;
      if (segment > target.length || (segment === target.length && !last))
        return `${here} has ${count(target.length, 'item')}, numbered from 0; there is no item ${segment}`;
      if (last) {
        if (value === null) target.splice(segment, 1);
        else target[segment] = copy(value);
        replaced(node, segment, layer);
        return undefined;
      }
      target = target[segment];
      node = child(node, segment);
    } else if (isRecord(target)) {
      const key = String(segment);
      if (last) {
        if (value === null) delete target[key];
        else setKey(target, key, copy(value));
        replaced(node, key, layer);
        return undefined;
      }
      let next = own(target, key);
      if (next === undefined || next === null) {
        // A list that is not there has no items to set: it is set whole.
        if (typeof path[i + 1] === 'number')
          return `${formatPath(path.slice(0, i + 1))} is not set, so it has no item ${path[i + 1]}; set the whole list, such as ${formatPath(path.slice(0, i + 1))}=[…]`;
        next = {};
        setKey(target, key, next);
        node = replaced(node, key, layer);
      } else node = child(node, key);
      target = next;
    } else {
      return `${here} is ${describeValue(target)}, not a mapping or a list, so it has no ${JSON.stringify(String(segment))}`;
    }
  }
  return undefined;
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  node: OriginNode,
  layer: number,
): void {
  for (const [key, value] of Object.entries(source)) {
    const current = own(target, key);
    if (value === null && current !== undefined) {
      delete target[key];
      replaced(node, key, layer);
    } else if (isRecord(value) && isRecord(current)) {
      mergeInto(current, value, child(node, key), layer);
    } else {
      setKey(target, key, copy(value));
      replaced(node, key, layer);
    }
  }
}

/** The value, with maps and lists of its own: a merge must never change a layer's data. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) setKey(out, key, copy(inner));
    return out;
  }
  return value;
}

function child(node: OriginNode, key: PathSegment): OriginNode {
  let next = node.children.get(key);
  if (next === undefined) {
    next = { children: new Map() };
    node.children.set(key, next);
  }
  return next;
}

/** The key's whole value is now the layer's: what earlier layers wrote under it is gone. */
function replaced(node: OriginNode, key: PathSegment, layer: number): OriginNode {
  const next: OriginNode = { layer, children: new Map() };
  node.children.set(key, next);
  return next;
}

/** Sets an own key, `__proto__` included: a file's key must never reach an object's prototype. */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function own(target: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}
