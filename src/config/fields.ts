import * as z from 'zod';
import { unknownKeyMessage } from './did-you-mean.js';
import { checkEnvSizes } from './exec-limits.js';

/**
 * Building blocks shared by every config schema. Each field carries the
 * description and example that the JSON Schema, the `create` templates and
 * the README are generated from.
 */

export interface FieldDocs {
  description: string;
  examples: readonly unknown[];
}

/** Attaches docs to the input side of a schema, where `z.toJSONSchema` reads them. */
export function documented<T extends z.ZodType>(schema: T, docs: FieldDocs): T {
  return schema.meta({ description: docs.description, examples: [...docs.examples] });
}

/** An object that rejects unknown keys, suggesting the closest known key. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).filter((key) => key !== '$schema');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? // One line per key: the loader splits them so that each unknown key gets its own position.
          issue.keys.map((key) => unknownKeyMessage(key, known)).join('\n')
        : undefined,
  });
}

/**
 * `extends:`: the base files a file is merged over (load/layers.ts). The
 * loader reads it and takes it out of the file before its check, so a value
 * that reaches the check was written where nothing is extended (a config
 * given to the library as an object): refused, rather than ignored.
 */
export const extendsField = documented(
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .refine((value) => value === undefined, {
      error:
        "only a config file (and a pipeline file's model: and backend: sections) can extend another; here, write the values out",
    }),
  {
    description:
      "Base files this file is merged over, in order (paths relative to this file's folder): maps merge key by key, lists replace, and null removes a key a base set.",
    examples: ['../site/slurm-base.yml', ['base.yml', 'gpu.yml']],
  },
);

/** Lets a file name its JSON Schema, as editors expect in JSON files. Ignored by modelrun. */
export const schemaReference = documented(z.string().optional(), {
  description:
    'JSON Schema of this file, for editors. modelrun ignores it; `modelrun backends create` writes it.',
  examples: ['../schemas/docker.schema.json'],
});

const DURATION_PATTERN = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
/** Whole seconds as text ("120", as `${TIMEOUT}` gives it) or a duration. */
const SECONDS_OR_DURATION = /^(?:\d+|(?=\d)(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?)$/;

/** Parses "90m", "2h", "1h30m", "45s" or "1d" into seconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.length === 0 ? '0s' : parts.join('');
}

/**
 * Whole seconds, written as a number or a duration string. The bounds apply
 * to both forms; JSON Schema can only check them on the number form.
 */
export function durationSeconds(bounds: { min: number; max: number }, docs: FieldDocs) {
  const range = `from ${bounds.min} to ${bounds.max} seconds (${formatDuration(bounds.min)} to ${formatDuration(bounds.max)})`;
  const message = (input: unknown) =>
    `must be whole seconds or a duration such as "90m", "2h" or "1h30m", ${range}; got ${describeValue(input)}`;
  const outOfRange = (issue: { input?: unknown }) =>
    `must be ${range}; got ${describeValue(issue.input)}`;
  const input = z.union(
    [
      z
        .number({ error: (issue) => message(issue.input) })
        .int({ error: (issue) => message(issue.input) })
        .min(bounds.min, { error: outOfRange })
        .max(bounds.max, { error: outOfRange }),
      z.string().regex(SECONDS_OR_DURATION, { error: (issue) => message(issue.input) }),
    ],
    { error: (issue) => message(issue.input) },
  );
  return documented(input, docs)
    .transform((value) =>
      typeof value === 'number'
        ? value
        : /^\d+$/.test(value)
          ? Number(value)
          : (parseDuration(value) ?? Number.NaN),
    )
    .pipe(z.number().min(bounds.min, { error: outOfRange }).max(bounds.max, { error: outOfRange }));
}

export const MEMORY_PATTERN = /^\d+[kmgKMG]?$/;

/**
 * A byte size as Docker writes it: "512m", "2g", or a number of bytes as
 * text ("1073741824"). A bare YAML number is refused: `memory: 1024` is
 * almost always meant as megabytes (Slurm's unit), and 1024 bytes runs nothing.
 */
export function memorySize(docs: FieldDocs, options: { minBytes?: number } = {}) {
  const minBytes = options.minBytes ?? 0;
  return documented(
    z
      .string({ error: (issue) => memoryMessage(issue.input) })
      .regex(MEMORY_PATTERN, { error: (issue) => memoryMessage(issue.input) })
      // The checks below only judge a well-formed size, so a malformed one gets one error.
      // (Not `abort`: that would also stop the config's own cross-field checks.)
      .refine((size) => !MEMORY_PATTERN.test(size) || memoryBytes(size) > 0, {
        // Docker reads a size of 0 as "use the default", which is not what "0" says.
        error:
          'a size of 0 is not allowed; leave the field out for the default, or give a size such as "256m"',
      })
      .refine(
        (size) => !MEMORY_PATTERN.test(size) || memoryBytes(size) <= Number.MAX_SAFE_INTEGER,
        {
          error: (issue) =>
            `${describeValue(issue.input)} is too large; a size must be under 8 PiB, such as "512g"`,
        },
      )
      .refine(
        (size) =>
          !MEMORY_PATTERN.test(size) || memoryBytes(size) === 0 || memoryBytes(size) >= minBytes,
        {
          error: (issue) => tooSmallMessage(String(issue.input), minBytes),
        },
      ),
    docs,
  );
}

/** Docker refuses a memory limit under 6 MiB, and no model runs in less. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 ** 2;

function tooSmallMessage(size: string, minBytes: number): string {
  const minimum = `${minBytes / 1024 ** 2}m`;
  return /^\d+$/.test(size)
    ? `"${size}" is ${size} bytes, less than the ${minimum} minimum; write "${size}m" for ${size} megabytes or "${size}g" for gigabytes`
    : `"${size}" is less than the ${minimum} minimum`;
}

function memoryMessage(input: unknown): string {
  if (typeof input === 'number' && Number.isSafeInteger(input) && input > 0) {
    // Say what the number would mean with each unit, so the fix is a choice, not a guess.
    const asBytes = input >= 1024 ** 2 ? `, or "${input}" in quotes for ${input} bytes` : '';
    return `needs a unit: write "${input}m" for ${input} megabytes or "${input}g" for ${input} gigabytes${asBytes}; got the bare number ${input}`;
  }
  const unit = typeof input === 'string' ? /^\d+([A-Za-z]+)$/.exec(input)?.[1] : undefined;
  if (unit !== undefined) {
    return `the unit "${unit}" in ${describeValue(input)} is not understood; write a whole number followed by k, m or g (kibibytes, mebibytes, gibibytes), such as "512m" or "2g"`;
  }
  return `must be a whole number with a unit k, m or g, such as "512m" or "2g" (text without a unit is bytes); got ${describeValue(input)}`;
}

/** Converts "512m" into bytes. */
export function memoryBytes(size: string): number {
  const unit = size.slice(-1).toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number.parseInt(size, 10) * factor;
}

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** name → value, where numbers and booleans become strings (`OMP_NUM_THREADS: 4`). */
export function stringMap(docs: FieldDocs, options: { names: 'env' | 'any' }) {
  const key =
    options.names === 'env'
      ? z
          .string()
          .regex(ENV_NAME_PATTERN, {
            error: (issue) =>
              issue.input === ''
                ? 'an environment variable name cannot be empty'
                : `"${String(issue.input)}" is not a valid environment variable name: use letters, digits and _, not starting with a digit`,
          })
          .meta({
            patternErrorMessage:
              'must be an environment variable name: letters, digits and _, not starting with a digit',
          })
      : z.string().min(1, { error: 'a name cannot be empty' });
  const value = z.union([z.string(), z.number(), z.boolean()], {
    error: (issue) =>
      `must be a string, number or boolean; got ${describeValue(issue.input)}. Quote it if it should be text`,
  });
  const map = documented(z.record(key, value), docs).transform(
    (entries): Record<string, string> =>
      Object.fromEntries(Object.entries(entries).map(([name, v]) => [name, String(v)])),
  );
  // An environment is handed to a program at exec, within the kernel's limits.
  return (options.names === 'env' ? map.superRefine(checkEnvSizes) : map).optional();
}

/** A short, quoted rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value);
  // YAML reads 1e400 (and .inf) as infinity, which no field accepts.
  if (value === Number.POSITIVE_INFINITY) return 'infinity (a number too large to hold)';
  if (value === Number.NEGATIVE_INFINITY) return 'minus infinity (a number too large to hold)';
  return String(value);
}
