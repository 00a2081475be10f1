import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { closestMatch } from '../config/did-you-mean.js';
import { UsageError } from '../errors.js';
import { isRecord } from '../records.js';

/**
 * Checks the options of a library call by hand, as plain JavaScript callers
 * get no help from the types: a wrong option must reject with a UsageError
 * naming it, not with a TypeError from deep inside a run.
 */

type Check = (value: unknown) => string | undefined;

const source: Check = (v) =>
  (typeof v === 'string' && v !== '') || isRecord(v)
    ? undefined
    : 'a path (a non-empty string) or a config object';

const env: Check = (v) =>
  isRecord(v) && Object.values(v).every((x) => x === undefined || typeof x === 'string')
    ? undefined
    : 'an object of strings, such as process.env';

const stream: Check = (v) =>
  isRecord(v) && typeof v.write === 'function' ? undefined : 'a stream (an object with write())';
const callback: Check = (v) => (typeof v === 'function' ? undefined : 'a function');
const flag: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');

const runChecks: Record<string, Check> = {
  model: source,
  backend: source,
  postprocessors: (v) =>
    Array.isArray(v) && v.every((p) => source(p) === undefined)
      ? undefined
      : 'an array of paths or config objects',
  signal: (v) => (v instanceof AbortSignal ? undefined : 'an AbortSignal'),
  env,
  cwd: (v) => (typeof v === 'string' && v !== '' ? undefined : 'a folder path'),
  stdout: stream,
  stderr: stream,
  onStatus: callback,
  onWarning: callback,
  dryRun: flag,
  skipGenerate: flag,
  postprocess: flag,
};

const path: Check = (v) => (typeof v === 'string' && v !== '' ? undefined : 'a file path');

const ensembleChecks: Record<string, Check> = {
  file: path,
  backend: path,
  maxParallel: (v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10_000
      ? undefined
      : 'a whole number from 1 to 10000',
  only: (v) =>
    Array.isArray(v) && v.every((m) => typeof m === 'string' || Number.isInteger(m))
      ? undefined
      : 'an array of member indexes or run ids',
  resume: flag,
  postprocess: flag,
  signal: runChecks.signal as Check,
  env,
  cwd: runChecks.cwd as Check,
  onStatus: callback,
  onMember: callback,
  onWarning: callback,
};

/** Throws a UsageError for options runEnsemble cannot take; `cwd` must be an existing folder. */
export function checkEnsembleOptions(options: unknown): void {
  if (!isRecord(options) || options.file === undefined)
    throw new UsageError('runEnsemble needs an options object with the `file` option', {
      hint: "call runEnsemble({ file: 'ensemble.yml' })",
    });
  checkEach('runEnsemble', options, ensembleChecks);
  if (typeof options.cwd === 'string') checkFolder(options.cwd);
}

const validateChecks: Record<string, Check> = {
  env,
  file: (v) => (typeof v === 'string' && v !== '' ? undefined : 'a file path'),
};

/** Throws a UsageError for options runModel cannot take; `cwd` must be an existing folder. */
export function checkRunOptions(options: unknown): void {
  if (!isRecord(options))
    throw new UsageError('runModel needs an options object', {
      hint: "call runModel({ model: 'model.yml' })",
    });
  if (options.model === undefined)
    throw new UsageError('runModel needs the `model` option', {
      hint: 'give a model file path or a model object',
    });
  checkEach('runModel', options, runChecks);
  if (typeof options.cwd === 'string') checkFolder(options.cwd);
}

/** Throws a UsageError for options a validate function cannot take. */
export function checkValidateOptions(name: string, options: unknown): void {
  if (options === undefined) return;
  if (!isRecord(options))
    throw new UsageError(`${name}'s options must be an object`, {
      hint: 'give { env, file }, or leave them out',
    });
  checkEach(name, options, validateChecks);
}

function checkEach(name: string, options: Record<string, unknown>, table: Record<string, Check>) {
  checkKnown(name, options, Object.keys(table));
  for (const [option, check] of Object.entries(table)) {
    const value = options[option];
    if (value === undefined) continue;
    const expected = check(value);
    if (expected !== undefined)
      throw new UsageError(`${name}'s \`${option}\` option must be ${expected}`, {
        hint: `fix or leave out \`${option}\``,
      });
  }
}

// A misspelt option would otherwise be ignored: `dryrun: true` would run the
// model for real, on Slurm a real job. Keys whose value is undefined are
// rejected too, as `{ dryrun: flag }` is the same mistake whatever `flag` is.
function checkKnown(name: string, options: Record<string, unknown>, known: string[]): void {
  for (const option of Object.keys(options)) {
    if (known.includes(option)) continue;
    const match = closestMatch(option, known);
    const list = known.map((k) => `\`${k}\``).join(', ');
    throw new UsageError(
      match === undefined
        ? `${name} has no \`${option}\` option`
        : `${name} has no \`${option}\` option; did you mean \`${match}\`?`,
      { hint: `its options are ${list}` },
    );
  }
}

// A run creates its output folders as needed, but a cwd that does not exist
// is a mistake: creating it would put the run somewhere nobody looks.
function checkFolder(cwd: string): void {
  let isFolder = false;
  try {
    isFolder = statSync(resolve(cwd)).isDirectory();
  } catch {}
  if (!isFolder)
    throw new UsageError(`runModel's \`cwd\` option is not an existing folder: ${cwd}`, {
      hint: 'give the folder the config paths are relative to; it must exist',
    });
}
