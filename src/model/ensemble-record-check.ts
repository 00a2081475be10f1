import { isRecord } from '../records.js';

/**
 * Whether what ensemble.json holds is a whole record of modelrun's, field by
 * field. A member can write into the ensemble's folder, and a person can
 * edit the file: `status`, `wait`, `cancel` and `logs` read only a record
 * that passes, and say which field did not, rather than fail on it later.
 */

/** The first field that is missing or of the wrong kind, as `backend.type`, with what is wrong. */
export interface RecordFault {
  field: string;
  problem: string;
}

/** A member's statuses, kept here so that the record's types (ensemble-record.ts) and its check agree. */
export const MEMBER_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
] as const;
const ENSEMBLE_STATUSES: readonly unknown[] = ['running', 'succeeded', 'failed', 'cancelled'];

type Check = (value: unknown) => string | undefined;

const string: Check = (v) => (typeof v === 'string' ? undefined : 'is not a string');
const count: Check = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'is not a whole number';
const nullable =
  (check: Check): Check =>
  (v) =>
    v === null ? undefined : check(v);
const number: Check = (v) => (typeof v === 'number' ? undefined : 'is not a number');
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'is not true or false');
const oneOf =
  (values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `is none of ${values.join(', ')}`;
const list: Check = (v) => (Array.isArray(v) ? undefined : 'is not a list');
const strings: Check = (v) =>
  list(v) ??
  ((v as unknown[]).every((item) => typeof item === 'string')
    ? undefined
    : 'holds an item that is not a string');
const mapping: Check = (v) => (isRecord(v) ? undefined : 'is not a mapping');

/** Each field with its check, in the order they are looked at; `?` marks one that may be left out. */
const FIELDS: [string, Check][] = [
  ['ensemble_id', string],
  ['file', string],
  ['dir', string],
  ['status', oneOf(ENSEMBLE_STATUSES)],
  ['started_at', string],
  ['ended_at', nullable(string)],
  ['duration_s', nullable(number)],
  ['backend', mapping],
  ['backend.type', string],
  ['max_parallel', count],
  ['fail_fast', boolean],
  ['overrides?', strings],
  ['totals', mapping],
  ...['members', ...MEMBER_STATUSES].map((name): [string, Check] => [`totals.${name}`, count]),
  ['members', list],
  ['aggregate', list],
  ['modelrun_version', string],
  ['owner?', mapping],
  ['owner.pid', count],
  ['owner.host', string],
  ['owner.boot_id?', string],
  ['owner.start?', count],
  ['log?', string],
];

const MEMBER_FIELDS: [string, Check][] = [
  ['index', count],
  ['replica', count],
  ['run_id', string],
  ['parameters', mapping],
  ['status', oneOf(MEMBER_STATUSES)],
  ['exit_code', nullable((v) => (Number.isInteger(v) ? undefined : 'is not a whole number'))],
  ['started_at', nullable(string)],
  ['ended_at', nullable(string)],
  ['duration_s', nullable(number)],
  ['run_dir', string],
  ['inputs', string],
  ['reason?', string],
  ['handle?', (v) => (isRecord(v) && typeof v.kind === 'string' ? undefined : 'is not a handle')],
];

/** The first fault of `value` as an ensemble record, or undefined when it is one. */
export function ensembleRecordFault(value: unknown): RecordFault | undefined {
  if (!isRecord(value)) return { field: '(the whole file)', problem: 'is not a JSON mapping' };
  const fault = firstFault(value, FIELDS, '');
  if (fault !== undefined) return fault;
  for (const [i, member] of (value.members as unknown[]).entries()) {
    if (!isRecord(member)) return { field: `members[${i}]`, problem: 'is not a mapping' };
    const memberFault = firstFault(member, MEMBER_FIELDS, `members[${i}].`);
    if (memberFault !== undefined) return memberFault;
  }
  for (const [i, entry] of (value.aggregate as unknown[]).entries()) {
    const entryFault =
      mapping(entry) === undefined
        ? firstFault(
            entry as Record<string, unknown>,
            [
              ['type', string],
              ['status', string],
              ['summary', string],
            ],
            `aggregate[${i}].`,
          )
        : { field: `aggregate[${i}]`, problem: 'is not a mapping' };
    if (entryFault !== undefined) return entryFault;
  }
  return undefined;
}

/**
 * The first of `fields` that fails its check. A field inside an optional
 * one that is left out (`owner.pid` without `owner`) is not looked at.
 */
function firstFault(
  value: Record<string, unknown>,
  fields: [string, Check][],
  prefix: string,
): RecordFault | undefined {
  const absent = new Set<string>();
  for (const [spec, check] of fields) {
    const optional = spec.endsWith('?');
    const path = optional ? spec.slice(0, -1) : spec;
    const parts = path.split('.');
    if (parts.some((_, i) => absent.has(parts.slice(0, i).join('.')))) continue;
    const field = fieldAt(value, parts);
    if (field === undefined) {
      if (optional) {
        absent.add(path);
        continue;
      }
      return { field: `${prefix}${path}`, problem: 'is missing' };
    }
    const problem = check(field);
    if (problem !== undefined) return { field: `${prefix}${path}`, problem };
  }
  return undefined;
}

function fieldAt(value: Record<string, unknown>, parts: string[]): unknown {
  let here: unknown = value;
  for (const part of parts)
    here = isRecord(here) && Object.hasOwn(here, part) ? here[part] : undefined;
  return here;
}
