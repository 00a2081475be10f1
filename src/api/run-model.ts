import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { DryRun } from '../backends/contract.js';
import { ConfigError } from '../errors.js';
import type { StopReason } from '../exec/stop-reason.js';
import { SharedGuardian } from '../guardian/shared.js';
import { requireValid } from '../load/require-valid.js';
import { collectRunRequest } from '../load/run-request.js';
import type { ModelConfig } from '../model/model-config.js';
import { endRecord, type RunRecord } from '../model/run-record.js';
import type { Problem } from '../problems.js';
import { Cleanup } from '../run/cleanup.js';
import { executeRun } from '../run/execute-run.js';
import { Redactor } from '../secrets.js';
import { onAbort } from './abort-listeners.js';
import { checkRunOptions } from './check-options.js';
import type {
  BackendConfig,
  Environment,
  OutputStream,
  PostprocessorConfig,
} from './public-types.js';
import {
  backendReader,
  type ConfigReader,
  isValidated,
  modelReader,
  postprocessorReader,
  type ValidationIssue,
  validateObject,
} from './validation.js';

export interface RunModelOptions {
  /** The model: a model file's path, or a model as an object (validated first unless it came from validateModel). */
  model: string | ModelConfig | Record<string, unknown>;
  /** The backend: a config file's path or an object. Default: the local backend. */
  backend?: string | BackendConfig | Record<string, unknown>;
  /** Postprocessors to run instead of the model's own list: paths or objects. */
  postprocessors?: (string | PostprocessorConfig | Record<string, unknown>)[];
  /** Aborting it stops the run and cleans up, as Ctrl-C does in the CLI; the run resolves as `cancelled`. */
  signal?: AbortSignal;
  /** The environment for `${VAR}` in configs and for the model. Default: process.env. */
  env?: Environment;
  /** The folder relative paths in `model`, `backend` and `postprocessors` resolve against. Default: process.cwd(). */
  cwd?: string;
  /** Where the model's standard output is copied live. Default: nowhere. */
  stdout?: OutputStream;
  /** Where the model's standard error is copied live. Default: nowhere. */
  stderr?: OutputStream;
  /** modelrun's progress lines ("generated 3 files"). Default: dropped. */
  onStatus?: (line: string) => void;
  /** Warnings about the combination of configs (an MPI launcher for a serial model). Default: dropped. */
  onWarning?: (warning: ValidationIssue) => void;
  /** Check everything and render the template into a scratch folder, without staging or starting anything. */
  dryRun?: boolean;
  /** Use the staging dir as it is, without rendering the template again. */
  skipGenerate?: boolean;
  /** Run the postprocessors after a successful run. Default: true. */
  postprocess?: boolean;
}

/** What a dry run would have run, with secrets masked. */
export interface DryRunDescription {
  lines: [label: string, value: string][];
  data: Record<string, unknown>;
}

/** The run record, as run.json holds it; a dry run adds what it would have run. */
export type RunResult = RunRecord & { dry_run?: DryRunDescription };

/**
 * Runs a model on a backend, as `modelrun run` does, and resolves with the
 * run record (what `.modelrun/run.json` holds). A model that fails, times
 * out or is cancelled still resolves: read `status` and `exit_code`. It
 * rejects with ConfigError for an invalid config, EngineUnavailableError for
 * an engine that cannot be used, and RunFailedError when a stage around the
 * model fails. Aborting `options.signal` stops the model and cleans up
 * (processes, containers, jobs, the staging lock), as Ctrl-C does in the CLI;
 * the record then says `cancelled`. Nothing is printed unless `stdout`,
 * `stderr` or `onStatus` are given.
 *
 * @example
 * const controller = new AbortController();
 * const record = await runModel({ model: 'model.yml', backend: 'backends/docker.yml', signal: controller.signal });
 * console.log(record.status, record.exit_code);
 */
export async function runModel(options: RunModelOptions): Promise<RunResult> {
  checkRunOptions(options);
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sources: string[] = [];
  const load = <T>(source: string | object, reader: ConfigReader<T>): T => {
    if (typeof source === 'string') {
      const path = resolve(cwd, source);
      sources.push(path);
      return requireValid(reader.file(path, source, env), reader.kind) as T;
    }
    if (isValidated(source)) return source as T;
    const shown = `the ${reader.kind} object`;
    const result = validateObject(source, reader, { env, file: resolve(cwd, 'config'), shown });
    if (result.value !== undefined) return result.value;
    throw new ConfigError(
      `${shown} is not valid: ${result.errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`)).join('; ')}`,
      {
        hint: `fix the ${reader.kind}; validate it first to get each error with its field path`,
        // Objects have no lines: line and column 0 say so.
        problems: result.errors.map((issue) => ({ ...issue, line: 0, column: 0 })),
      },
    );
  };
  const { backend: backendSource, postprocessors: postprocessorSources } = options;
  const loaded = collectRunRequest({
    model: () => ({ value: load(options.model, modelReader) }),
    ...(backendSource === undefined
      ? {}
      : {
          backend: () => ({
            value: load(backendSource, backendReader),
            place: (path, message) => ({
              file: typeof backendSource === 'string' ? backendSource : '(backend config object)',
              line: 0,
              column: 0,
              path: path.join('.'),
              message,
            }),
          }),
        }),
    ...(postprocessorSources === undefined
      ? {}
      : { postprocessors: () => postprocessorSources.map((p) => load(p, postprocessorReader)) }),
    defaultBackendFile:
      typeof options.model === 'string' ? resolve(cwd, options.model) : resolve(cwd, 'model'),
    modelName: 'the model',
    sources,
  });
  for (const warning of loaded.warnings) options.onWarning?.(issueOf(warning));
  // A library call rejects with one error: the first, as before errors were collected.
  if (!('run' in loaded)) throw loaded.errors[0];
  const { model, backend, postprocessors } = loaded.run;

  const onWarning = options.onWarning;
  // The caller's signal stops the run through a controller of its own, whose reason says how.
  const stopper = new AbortController();
  const stop = () => stopper.abort({ kind: 'abort' } satisfies StopReason);
  const removeListener = options.signal === undefined ? undefined : onAbort(options.signal, stop);
  try {
    const result = await executeRun(
      {
        model,
        backend,
        postprocessors,
        dryRun: options.dryRun === true,
        skipGenerate: options.skipGenerate === true,
        postprocess: options.postprocess !== false,
        cleanupOnFailure: false,
        sources,
      },
      {
        env,
        terminal: {
          stdout: sink(options.stdout),
          stderr: sink(options.stderr),
          // A caller who reads the output late would find it cut without a word.
          ...(onWarning === undefined
            ? {}
            : {
                onGaveUp: (message: string) =>
                  onWarning({ message, path: '', file: shownModel(options.model) }),
              }),
        },
        status: options.onStatus ?? (() => undefined),
        signal: stopper.signal,
        cleanup: new Cleanup(),
        redactor: new Redactor().addEnv(env),
        // One guardian for all the runs the program has under way at once.
        guardian: programGuardian.lease(),
        owner: 'library',
      },
    );
    return result.dryRun === undefined ? result.record : dryRunResult(result.record, result.dryRun);
  } finally {
    removeListener?.();
  }
}

/** The guardian of the runs this program has under way, started with the first of them. */
export const programGuardian = new SharedGuardian();

function dryRunResult(record: RunRecord, dryRun: DryRun): RunResult {
  const done = structuredClone(record);
  // Everything a run checks first passed, and nothing was started.
  endRecord(done, 'succeeded');
  return { ...done, dry_run: dryRun };
}

function shownModel(model: RunModelOptions['model']): string {
  return typeof model === 'string' ? model : '(model object)';
}

export function issueOf(problem: Problem): ValidationIssue {
  return { message: problem.message, path: problem.path, file: problem.file };
}

/**
 * The caller's output as the stream the run writes to: a Node stream as it
 * is (its back-pressure kept), anything else with write() behind a Writable.
 */
export function sink(output: OutputStream | undefined): NodeJS.WritableStream {
  if (output === undefined) return new Writable({ write: (_chunk, _encoding, done) => done() });
  const stream = output as Partial<NodeJS.WritableStream>;
  if (
    typeof stream.on === 'function' &&
    typeof stream.once === 'function' &&
    typeof stream.end === 'function'
  )
    return output as NodeJS.WritableStream;
  return new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      output.write(chunk);
      done();
    },
  });
}
