import type { Member } from './members.js';

/**
 * What templates see of a member as `member`: its `index` and `replica`,
 * its values by path as written (`member.parameters["config.depth_m"]`),
 * nested as the paths go (`member.config.depth_m`), and by their last key
 * alone (`member.depth_m`) where that names one path only.
 */
export type MemberScope = Record<string, unknown> & {
  index: number;
  replica: number;
  parameters: Record<string, unknown>;
};

/** The short names of an ensemble's paths, and the names two paths share, which name neither. */
export interface MemberNames {
  short: Map<string, string>;
  /** Name → the paths that end in it. */
  shared: Map<string, string[]>;
  /** A key `member` has of its own (index, replica, parameters) → the paths that end in it, which it keeps naming. */
  hidden: Map<string, string[]>;
}

/** The keys `member` has of its own: a path ending in one never takes it over. */
export const OWN_KEYS = ['index', 'replica', 'parameters'];

/** The last key of each path, unless two paths end in it, or it is a key `member` has already. */
export function memberNames(members: readonly Member[]): MemberNames {
  const byName = new Map<string, Set<string>>();
  const taken = new Set(OWN_KEYS);
  for (const member of members)
    for (const [path, override] of withPaths(member)) {
      const nested = nestedPath(override);
      taken.add(String(nested[0]));
      const last = nested[nested.length - 1];
      if (typeof last !== 'string') continue;
      const paths = byName.get(last) ?? new Set<string>();
      paths.add(path);
      byName.set(last, paths);
    }
  const short = new Map<string, string>();
  const shared = new Map<string, string[]>();
  const hidden = new Map<string, string[]>();
  for (const [name, paths] of byName) {
    if (OWN_KEYS.includes(name)) hidden.set(name, [...paths]);
    if (paths.size > 1) shared.set(name, [...paths]);
    else if (!taken.has(name)) short.set([...paths][0] as string, name);
  }
  return { short, shared, hidden };
}

export function memberScope(member: Member, names: MemberNames): MemberScope {
  const scope: MemberScope = { index: member.index, replica: member.replica, parameters: {} };
  for (const [path, override] of withPaths(member)) {
    scope.parameters[path] = override.value;
    setNested(scope, nestedPath(override), override.value);
    const name = names.short.get(path);
    if (name !== undefined) scope[name] = override.value;
  }
  return scope;
}

/** The path as written, `backend.` prefix included, as keys. */
function nestedPath(override: Member['overrides'][number]): (string | number)[] {
  return override.target === 'backend' ? ['backend', ...override.path] : override.path;
}

/** Each override with its path as written: a member's overrides are its values, in order. */
function withPaths(member: Member): [string, Member['overrides'][number]][] {
  return Object.keys(member.values).map((path, i) => [
    path,
    member.overrides[i] as Member['overrides'][number],
  ]);
}

function setNested(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let at = root;
  for (const [i, segment] of path.entries()) {
    const key = String(segment);
    if (i === path.length - 1) {
      at[key] = value;
      return;
    }
    const next = Object.hasOwn(at, key) ? at[key] : undefined;
    // A copy: the mapping or list may be a value another path set, which
    // the member's record and the members made with it share.
    const child: Record<string, unknown> = Array.isArray(next)
      ? ([...next] as unknown as Record<string, unknown>)
      : next !== null && typeof next === 'object'
        ? { ...next }
        : {};
    at[key] = child;
    at = child;
  }
}
