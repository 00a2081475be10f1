import { closestMatch } from '../config/did-you-mean.js';
import { formatPath, type PathSegment } from '../problems.js';
import { isRecord, valueAt } from '../records.js';
import type { Layer } from './layers.js';
import type { Override } from './override-arg.js';
import type { SiteConfig } from './site-config.js';

/**
 * What is layered over and under the files a command loads: the overrides
 * from its command line (`--set`), and the site config's defaults.
 */
export interface Layering {
  overrides?: readonly Override[];
  /** Undefined: none (there is no file, or `--no-site-config`). */
  site?: SiteConfig;
}

/** The overrides of one target (the model or the backend), with their paths under `at`. */
export function overridesOf(
  overrides: readonly Override[],
  target: Override['target'],
  at: readonly PathSegment[] = [],
): Override[] {
  return overrides
    .filter((override) => override.target === target)
    .map((override) => ({ ...override, path: [...at, ...override.path] }));
}

/**
 * The site's defaults for the backend type the data names, as layers under
 * it; with its root at `at` (a pipeline's `backend:` section).
 */
export function siteLayers(
  site: SiteConfig | undefined,
  data: Record<string, unknown>,
  at: readonly PathSegment[] = [],
): Layer[] {
  const backend = valueAt(data, at);
  const type = isRecord(backend) ? backend.type : undefined;
  const layer = typeof type === 'string' ? site?.layerFor(type) : undefined;
  return layer === undefined ? [] : [{ ...layer, at: [...at] }];
}

/**
 * A warning for an override that adds a key to a free-form mapping at
 * `mapping` (a model's `config:`): nothing checks those keys, so a typo
 * would silently do nothing.
 */
export function freeFormKey(
  data: Record<string, unknown>,
  path: readonly PathSegment[],
  mapping: readonly PathSegment[],
): string | undefined {
  if (path.length <= mapping.length || mapping.some((key, i) => path[i] !== key)) return undefined;
  // The first key on the way that is not there is the one that is added.
  let parent: unknown = data;
  for (const [i, segment] of path.entries()) {
    if (!isRecord(parent)) return undefined;
    const key = String(segment);
    if (i >= mapping.length && !Object.hasOwn(parent, key)) {
      const match = closestMatch(key, Object.keys(parent));
      const guess = match === undefined ? '' : `; did you mean "${match}"?`;
      return `${formatPath(path.slice(0, i))} has no key "${key}", so this adds one, which the model sees only if it reads it${guess}`;
    }
    parent = parent[key];
  }
  return undefined;
}
