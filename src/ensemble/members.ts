import { UsageError } from '../errors.js';
import { MAX_MEMBERS } from '../load/ensemble-file.js';
import { holdsSecret, type Override, parsePath } from '../load/override-arg.js';
import { count } from '../plural.js';
import type { PathSegment } from '../problems.js';
import { isSecretName, MASK } from '../secrets.js';

/**
 * An ensemble's members, from what its file says of them: the cartesian
 * product of `parameters:` (paths as `--set` writes them, each with a list of
 * values), then the explicit `members:`, each `replicas` times; with neither,
 * the model itself, `replicas` times. Each member is the overrides it makes
 * of the model and the backend, applied as `--set` values are, so that a
 * problem one causes is placed at the value in the file that wrote it.
 */

export { MAX_MEMBERS };

export interface MemberSpec {
  /** Path → the values it takes; the product's last path varies fastest. */
  parameters: Record<string, readonly unknown[]>;
  /** Members written out, each a map of path → value; after the product's. */
  members: readonly Record<string, unknown>[];
  /** How many times each member runs (stochastic models); at least 1. */
  replicas: number;
  /** Where the ensemble file wrote a data path of it (`parameters.<path>.<i>`, `members.<m>.<path>`). */
  writtenAt?: (path: PathSegment[]) => Override['writtenAt'];
}

export interface Member {
  /** 0-based, in the order above, replicas of one member side by side. */
  index: number;
  /** 0-based: which run of the same parameters it is. */
  replica: number;
  /** The member's values by path as written, in order. */
  values: Record<string, unknown>;
  /** The values as overrides, each named `member N: PATH=VALUE` in messages. */
  overrides: Override[];
}

/** The most bytes all members' values may take together, written as JSON. */
export const MAX_MEMBER_VALUES_BYTES = 16 * 2 ** 20;

/** JSON.stringify, once per value: members share their values, and a large one is written once. */
function jsonOf(): (value: unknown) => string {
  const known = new Map<unknown, string>();
  return (value) => {
    let text = known.get(value);
    if (text === undefined) {
      text = JSON.stringify(value) ?? 'null';
      known.set(value, text);
    }
    return text;
  };
}

export function expandMembers(spec: MemberSpec): Member[] {
  const paths = Object.entries(spec.parameters);
  const empty = paths.find(([, values]) => values.length === 0);
  if (empty !== undefined)
    throw new UsageError(`parameters.${empty[0]} lists no values, so the product has no member`, {
      hint: 'give it at least one value, or remove it',
    });
  const product = paths.length === 0 ? 0 : paths.reduce((n, [, values]) => n * values.length, 1);
  // Neither parameters nor members: the model as it is, `replicas` times.
  const distinct = product + spec.members.length || 1;
  const total = distinct * spec.replicas;
  if (total > MAX_MEMBERS)
    throw new UsageError(
      `the ensemble has ${count(total, 'member')} (${product} from parameters, ${spec.members.length} listed, ×${spec.replicas} replicas); at most ${MAX_MEMBERS} run as one ensemble`,
      { hint: 'split it into ensembles of fewer members, or take fewer values' },
    );
  // Each member holds its values while it is checked: a large value times many members is refused first.
  const json = jsonOf();
  const bytes =
    paths.reduce(
      (sum, [, options]) =>
        sum +
        options.reduce((n: number, option) => n + json(option).length, 0) *
          (product / options.length),
      0,
    ) +
    spec.members.reduce(
      (sum, member) => sum + Object.values(member).reduce((n: number, v) => n + json(v).length, 0),
      0,
    );
  if (bytes * spec.replicas > MAX_MEMBER_VALUES_BYTES)
    throw new UsageError(
      `the members' values come to ${Math.ceil((bytes * spec.replicas) / 2 ** 20)} MiB together; at most ${MAX_MEMBER_VALUES_BYTES / 2 ** 20} MiB`,
      {
        hint: 'keep large data in a file the model reads, and give the members its path or a small value',
      },
    );
  const parsed = new Map(
    [...paths.map(([path]) => path), ...spec.members.flatMap((m) => Object.keys(m))].map((path) => [
      path,
      parsePath(path, `the parameter ${path}`),
    ]),
  );
  // Each distinct member: its values, and where each was written.
  const written: { values: Record<string, unknown>; at: Record<string, PathSegment[]> }[] = [];
  for (let i = 0; i < product; i++) {
    const values: Record<string, unknown> = {};
    const at: Record<string, PathSegment[]> = {};
    let rest = i;
    for (let p = paths.length - 1; p >= 0; p--) {
      const [path, options] = paths[p] as [string, readonly unknown[]];
      const option = rest % options.length;
      values[path] = options[option];
      at[path] = ['parameters', path, option];
      rest = Math.floor(rest / options.length);
    }
    written.push({ values: Object.fromEntries(paths.map(([path]) => [path, values[path]])), at });
  }
  for (const [m, values] of spec.members.entries())
    written.push({
      values,
      at: Object.fromEntries(Object.keys(values).map((path) => [path, ['members', m, path]])),
    });
  if (written.length === 0) written.push({ values: {}, at: {} });
  return written.flatMap(({ values, at }, m) =>
    Array.from({ length: spec.replicas }, (_, replica): Member => {
      const index = m * spec.replicas + replica;
      return {
        index,
        replica,
        values,
        overrides: Object.entries(values).map(([text, value]) => {
          const { target, path } = parsed.get(text) as ReturnType<typeof parsePath>;
          const secret = isSecretName(text) || holdsSecret(value);
          const place = spec.writtenAt?.(at[text] ?? []);
          return {
            flag: '--set',
            text: `${text}=${json(value)}`,
            secret,
            arg: `member ${index}: ${text}=${secret ? MASK : json(value)}`,
            target,
            path,
            value,
            ...(place === undefined ? {} : { writtenAt: place }),
          };
        }),
      };
    }),
  );
}
