import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { resolveConfigPath } from '../config/path-context.js';
import { controlCharacterProblem } from '../config/paths.js';
import { formatPath, type PathSegment, type Problem } from '../problems.js';
import { isRecord, valueAt } from '../records.js';
import { interpolateDocument } from './interpolate.js';
import { setKey } from './merge.js';
import { type ParseResult, type PositionedDocument, parseYaml, toPlainData } from './parse-yaml.js';
import { locate } from './positions.js';
import type { ReadOnce } from './read-once.js';
import { readSource } from './read-source.js';

/**
 * One layer of a config: a file (the one named, a base it extends, the site
 * config) or a command-line override, with what it says and where it said it.
 */
export interface Layer {
  /** Its name in messages: the file as the user would write it, or the argument (`--set cpu=4`). */
  name: string;
  /** The folder its relative paths resolve against. */
  dir: string;
  /** The file it was read from; undefined for a command-line argument. */
  file?: string;
  /** The parsed file, to place problems; undefined for a command-line argument. */
  doc?: PositionedDocument;
  /** Its data, interpolated, without `extends`. */
  data: Record<string, unknown>;
  /** Where its root sits in the merged value: a pipeline's `backend:` section. */
  at?: PathSegment[];
  /** Where its data sits in its file: a site config's section for one backend type. */
  docAt?: PathSegment[];
  /** The paths (JSON of the path in `data`) whose value came from `${...}`, with the text written. */
  interpolated: Map<string, string>;
  /** The paths whose `${...}` could not be filled: reported already, so not checked again. */
  failed?: Set<string>;
  /** For a layer that is not a file of its own: the place in a file that wrote it (an ensemble's member value). */
  writtenAt?: { file: string; line: number; column: number };
}

/** A chain of `extends:` longer than this is a mistake, or a loop that escaped the cycle check. */
export const MAX_EXTENDS_DEPTH = 10;

/** Bases one config may be made of, all chains together: each is a file read, of up to 1 MiB. */
export const MAX_BASES = 100;

/** The key a file names its bases with. */
export const EXTENDS_KEY = 'extends';

/** Where in a layer's file a problem at a data path of that layer was written. */
export function placeInLayer(
  layer: Layer,
  path: readonly PathSegment[],
  message: string,
  at: 'key' | 'value' = 'value',
): Problem {
  const shown = formatPath([...(layer.at ?? []), ...path]);
  if (layer.writtenAt !== undefined)
    return { ...layer.writtenAt, path: shown, message: `${message} (${layer.name})` };
  if (layer.doc === undefined)
    return { file: layer.name, line: 0, column: 0, path: shown, message };
  const position = locate(layer.doc, [...(layer.docAt ?? []), ...path], at);
  return { file: layer.name, ...position, path: shown, message };
}

/**
 * A file, parsed, as a layer: its values interpolated from `env`, and the
 * problems found on the way (its syntax among them), placed in it. No layer
 * when it could not be turned into data.
 */
export function fileLayer(
  name: string,
  path: string,
  result: ParseResult,
  env: NodeJS.ProcessEnv,
): FileLayer {
  if (!result.ok) return { problems: result.failures.map((f) => ({ ...f, file: name, path: '' })) };
  const parsed = result.parsed;
  const known = madeFrom.get(parsed);
  const same = known?.name === name && known.path === path && known.env === env;
  if (same && known.made !== undefined) return copyOf(known.made);
  const made = readLayer(name, path, parsed, env);
  // Kept from the second time on: most files make one layer, and a layer kept is a copy more.
  madeFrom.set(parsed, { name, path, env, ...(same ? { made: copyOf(made) } : {}) });
  return made;
}

type FileLayer = { layer?: Layer; problems: Problem[] };

/**
 * The layer each parsed file made last, by name, path and environment: an
 * ensemble's members are made of one parsed file many times, and reading
 * its data out of the document again cost most of checking a member.
 */
const madeFrom = new WeakMap<
  PositionedDocument,
  { name: string; path: string; env: NodeJS.ProcessEnv; made?: FileLayer }
>();

/** A layer to change as its reader likes: the data of the layers merged is changed in place. */
function copyOf({ layer, problems }: FileLayer): FileLayer {
  return {
    ...(layer === undefined
      ? {}
      : {
          layer: {
            ...layer,
            data: copyData(layer.data),
            interpolated: new Map(layer.interpolated),
            ...(layer.failed === undefined ? {} : { failed: new Set(layer.failed) }),
          },
        }),
    problems: problems.map((problem) => ({ ...problem })),
  };
}

/**
 * Plain data copied, each object once: what YAML aliases made one object
 * stays one object in the copy. Anything but a plain object or list (none
 * in a YAML 1.2 file) is cloned whole.
 */
function copyData<T>(value: T, copies = new Map<object, unknown>()): T {
  if (value === null || typeof value !== 'object') return value;
  const known = copies.get(value);
  if (known !== undefined) return known as T;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    copies.set(value, list);
    for (const item of value) list.push(copyData(item, copies));
    return list as T;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  const mapping: Record<string, unknown> = {};
  copies.set(value, mapping);
  for (const [key, inner] of Object.entries(value)) {
    // Set plainly, but for the one key that would set the prototype instead.
    if (key === '__proto__') setKey(mapping, key, copyData(inner, copies));
    else mapping[key] = copyData(inner, copies);
  }
  return mapping as T;
}

function readLayer(
  name: string,
  path: string,
  parsed: PositionedDocument,
  env: NodeJS.ProcessEnv,
): FileLayer {
  const at = (offset: number) => {
    const { line, col } = parsed.lineCounter.linePos(offset);
    return { file: name, line, column: col };
  };
  const { problems: found, interpolated, restore } = interpolateDocument(parsed, env);
  const problems = found.map((p) => ({
    ...at(p.offset),
    path: formatPath(p.path),
    message: p.message,
  }));
  let plain: ReturnType<typeof toPlainData>;
  try {
    plain = toPlainData(parsed);
  } finally {
    // The document says again what the file says: one parsed file may make
    // many layers (an ensemble's members), and a second interpolation of an
    // interpolated text would fill what `$${` wrote for the model's own shell.
    restore();
  }
  if (!plain.ok) {
    const where =
      plain.offset === undefined ? { file: name, ...locate(parsed, []) } : at(plain.offset);
    return { problems: [...problems, { ...where, path: '', message: plain.message }] };
  }
  const failed = new Set(found.map((p) => JSON.stringify(p.path)));
  return {
    layer: {
      name,
      dir: dirname(path),
      file: path,
      doc: parsed,
      data: plain.data,
      interpolated,
      failed,
    },
    problems,
  };
}

/**
 * The layers of a file that may extend others: its bases, each after its own
 * bases and in the order listed, then the file itself. A base is found
 * relative to the folder of the file that names it. What cannot be followed
 * (a missing file, a cycle, a chain deeper than MAX_EXTENDS_DEPTH) is a
 * problem at the `extends:` entry that names it; problems inside a base are
 * placed in the base.
 */
export function extendedLayers(
  top: Layer,
  path: string,
  env: NodeJS.ProcessEnv,
  problems: Problem[],
  readOnce?: ReadOnce,
): Layer[] {
  if (!Object.hasOwn(top.data, EXTENDS_KEY)) return [top];
  const real = realOrSelf(path);
  return expand(top, [{ real, name: top.name }], {
    env,
    problems,
    seen: new Set([real]),
    readOnce,
  });
}

/** What one config's expansion shares: the bases read so far, each read (and merged) once. */
interface Expansion {
  env: NodeJS.ProcessEnv;
  problems: Problem[];
  seen: Set<string>;
  /** Where the bases are read from, for a load that reads each file once; undefined: the disk. */
  readOnce: ReadOnce | undefined;
}

/** Where an `extends:` entry written in a file of folder `dir` points: as a path field reads it. */
export function basePath(dir: string, entry: string): string {
  return resolveConfigPath({ baseDir: dir, home: homedir(), kindOf: () => 'missing' }, entry);
}

/** The files from the one named to the layer being read: each base's real path, and its name in messages. */
type Chain = { real: string; name: string }[];

function expand(layer: Layer, chain: Chain, reading: Expansion): Layer[] {
  const { env, problems, seen } = reading;
  const written = layer.data[EXTENDS_KEY];
  if (!Object.hasOwn(layer.data, EXTENDS_KEY)) return [layer];
  const { [EXTENDS_KEY]: _, ...rest } = layer.data;
  layer.data = rest;
  const entries = Array.isArray(written)
    ? written.map((entry, i) => ({ entry, at: [EXTENDS_KEY, i] }))
    : [{ entry: written, at: [EXTENDS_KEY] }];
  const problem = (at: PathSegment[], message: string) =>
    problems.push(placeInLayer(layer, at, message));
  if (entries.length === 0 || written === null) {
    problem(
      [EXTENDS_KEY],
      'names no file: give the path of a base file, or a list of them, or remove the key',
    );
    return [layer];
  }
  if (entries.length > MAX_BASES) {
    problem([EXTENDS_KEY], `lists ${entries.length} bases; at most ${MAX_BASES} make one config`);
    return [layer];
  }
  const layers: Layer[] = [];
  for (const { entry, at } of entries) {
    if (typeof entry !== 'string' || entry === '') {
      problem(
        at,
        `must be the path of a base file (relative to this file's folder); got ${entry === '' ? 'an empty string' : JSON.stringify(entry)}`,
      );
      continue;
    }
    // A failed ${...} in the path is reported already; reading the text left would only add noise.
    if (layer.failed?.has(JSON.stringify(at))) continue;
    const unusable = controlCharacterProblem(entry);
    if (unusable !== undefined) {
      problem(at, unusable);
      continue;
    }
    const file = basePath(layer.dir, entry);
    if (chain.length > MAX_EXTENDS_DEPTH) {
      problem(
        at,
        `goes more than ${MAX_EXTENDS_DEPTH} files deep (${chain.map((step) => step.name).join(' → ')} → ${entry}); flatten the chain of bases`,
      );
      continue;
    }
    // Named before it is read: a cycle or a repeat costs no read of a file of up to 1 MiB.
    const real = realOrSelf(file);
    const name =
      isAbsolute(entry) || entry.startsWith('~')
        ? file
        : normalize(join(dirname(layer.name), entry));
    const loop = chain.findIndex((step) => step.real === real);
    if (loop !== -1) {
      const names = [...chain.slice(loop).map((step) => step.name), name];
      problem(at, `makes a cycle: ${names.join(' → ')}; a file cannot be its own base`);
      continue;
    }
    // A base that two files extend is merged once, where it is first reached: a
    // later repeat would undo what the files between set over it.
    if (seen.has(real)) continue;
    if (seen.size > MAX_BASES) {
      problem(at, `makes the config of more than ${MAX_BASES} base files; merge some of them`);
      continue;
    }
    const read = reading.readOnce?.file(file) ?? { source: readSource(file) };
    const { source } = read;
    if (!source.ok) {
      problem(
        at,
        source.reason === 'missing'
          ? `the base file ${entry} does not exist (looked for ${file}); give a path relative to this file's folder`
          : `the base file ${entry}: ${source.message}`,
      );
      continue;
    }
    seen.add(real);
    const base = fileLayer(name, file, read.parsed ?? parseYaml(source.text), env);
    problems.push(...base.problems);
    if (base.layer !== undefined)
      layers.push(...expand(base.layer, [...chain, { real, name }], reading));
  }
  layers.push(layer);
  return layers;
}

/**
 * The part of a layer's file at `path` (a pipeline's `backend:` section, a
 * site config's section for one type), as a layer of its own, whose data
 * sits at `path` in its file and at `at` in the merged value.
 */
export function subLayer(
  layer: Layer,
  path: readonly PathSegment[],
  data: Record<string, unknown>,
  at?: PathSegment[],
): Layer {
  const prefix = JSON.stringify(path).slice(0, -1);
  const within = <V>(entries: Iterable<[string, V]>) =>
    new Map(
      [...entries].flatMap(([key, value]): [string, V][] =>
        path.length === 0
          ? [[key, value]]
          : key.startsWith(`${prefix},`)
            ? [[`[${key.slice(prefix.length + 1)}`, value]]
            : [],
      ),
    );
  return {
    name: layer.name,
    dir: layer.dir,
    ...(layer.file === undefined ? {} : { file: layer.file }),
    ...(layer.doc === undefined ? {} : { doc: layer.doc }),
    docAt: [...(layer.docAt ?? []), ...path],
    data,
    ...(at === undefined ? {} : { at }),
    interpolated: within(layer.interpolated),
    failed: new Set(
      within([...(layer.failed ?? [])].map((key): [string, true] => [key, true])).keys(),
    ),
  };
}

/**
 * The bases of the sections of each file layer that may extend files of
 * their own (a pipeline's inline `model:` and `backend:`), each put under
 * its section, before the layer that holds it: the section's own values
 * are merged over its bases.
 */
export function sectionLayers(
  layers: readonly Layer[],
  sections: readonly PathSegment[][],
  env: NodeJS.ProcessEnv,
  problems: Problem[],
  readOnce?: ReadOnce,
): Layer[] {
  return layers.flatMap((layer) => {
    const bases = sections.flatMap((path) => {
      const section = valueAt(layer.data, path);
      if (!isRecord(section) || !Object.hasOwn(section, EXTENDS_KEY)) return [];
      const own = subLayer(layer, path, { ...section }, [...path]);
      delete section[EXTENDS_KEY];
      // The file that holds the section is in the chain: a section cannot extend its own file.
      const real = realOrSelf(layer.file ?? join(layer.dir, layer.name));
      return expand(own, [{ real, name: layer.name }], {
        env,
        problems,
        seen: new Set([real]),
        readOnce,
      })
        .slice(0, -1)
        .map((base) => ({ ...base, at: [...path] }));
    });
    return [...bases, layer];
  });
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
