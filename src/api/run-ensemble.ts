import { findBackend } from '../backends/registry.js';
import { loadEnsembleInTurns } from '../ensemble/load-ensemble.js';
import type { StopReason } from '../exec/stop-reason.js';
import type { EnsembleRecord, MemberEntry } from '../model/ensemble-record.js';
import { Cleanup } from '../run/cleanup.js';
import { runEnsemble as runMembers } from '../run/ensemble.js';
import { executeRun } from '../run/execute-run.js';
import { Redactor } from '../secrets.js';
import { onAbort } from './abort-listeners.js';
import { checkEnsembleOptions } from './check-options.js';
import {
  defaultParallel,
  memberRequests,
  selectedMembers,
  withInputs,
} from './ensemble-request.js';
import type { Environment } from './public-types.js';
import { issueOf, programGuardian, sink } from './run-model.js';
import type { ValidationIssue } from './validation.js';

export interface RunEnsembleOptions {
  /** The ensemble file's path. */
  file: string;
  /** A backend config file's path, instead of the file's `backend:` section. */
  backend?: string;
  /** The most members running at once. Default: the file's max_parallel, else the CPU count on local, 4 on the others. */
  maxParallel?: number;
  /** Run only these members, by index or run id; the others keep what ensemble.json said. */
  only?: (number | string)[];
  /** Skip the members whose last run succeeded with the same inputs. */
  resume?: boolean;
  /** Run each member's postprocessors. Default: true. */
  postprocess?: boolean;
  /** Aborting it cancels every member and cleans up, as Ctrl-C does; the record then says `cancelled`. */
  signal?: AbortSignal;
  /** The environment for `${VAR}` in the files and for the members. Default: process.env. */
  env?: Environment;
  /** The folder `file` and `backend` resolve against. Default: process.cwd(). */
  cwd?: string;
  /** modelrun's own lines (a submitted job array, a member's warning). Default: dropped. */
  onStatus?: (line: string) => void;
  /** Each change of a member's state, as ensemble.json is to record it. */
  onMember?: (member: MemberEntry) => void;
  /** The files' warnings (a member's value for a key the model does not have). Default: dropped. */
  onWarning?: (warning: ValidationIssue) => void;
}

/**
 * Runs an ensemble file's members and its aggregate step, as `modelrun
 * ensemble` does, and resolves with the ensemble's record (what
 * ensemble.json holds). Members that fail still resolve it: read `status`,
 * `totals` and each member's `status`. It rejects with ConfigError for an
 * invalid file or member (the first error), and UsageError for an unknown
 * member in `only`. As runModel, it applies no site config and no overrides.
 *
 * @example
 * const record = await runEnsemble({ file: 'ensemble.yml', maxParallel: 2 });
 * console.log(record.status, record.totals);
 */
export async function runEnsemble(options: RunEnsembleOptions): Promise<EnsembleRecord> {
  checkEnsembleOptions(options);
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const load = await loadEnsembleInTurns(
    {
      ensembleFile: options.file,
      ...(options.backend === undefined ? {} : { backendConfig: options.backend }),
      postprocessorConfigs: [],
    },
    { env, cwd },
  );
  for (const warning of load.warnings) options.onWarning?.(issueOf(warning));
  if ('errors' in load) throw load.errors[0];
  const { ensemble } = load;
  const only = selectedMembers(options.only ?? [], ensemble, 'only');
  const { backendType } = ensemble;
  const status = options.onStatus ?? (() => undefined);
  const stopper = new AbortController();
  const removeListener =
    options.signal === undefined
      ? undefined
      : onAbort(options.signal, () => stopper.abort({ kind: 'abort' } satisfies StopReason));
  const redactor = new Redactor().addEnv(env);
  const lease = programGuardian.lease();
  lease.prepare();
  try {
    const { record } = await runMembers(
      {
        id: ensemble.id,
        dir: ensemble.dir,
        file: ensemble.file,
        fileDir: ensemble.fileDir,
        backendType,
        maxParallel: options.maxParallel ?? ensemble.maxParallel ?? defaultParallel(backendType),
        failFast: ensemble.failFast,
        members: await withInputs(
          memberRequests(ensemble, options.postprocess !== false, redactor),
          redactor,
          [ensemble.dir, ensemble.fileDir],
        ),
        aggregate: ensemble.aggregate,
        overrides: [],
        resume: options.resume === true,
        ...(only === undefined ? {} : { only }),
      },
      {
        env,
        signal: stopper.signal,
        status,
        redactor,
        guard: lease.guard,
        openBatch: findBackend(backendType)?.openBatch,
        runMember: (request, { signal, batch, launcher, observe }) =>
          executeRun(request, {
            env,
            terminal: { stdout: sink(undefined), stderr: sink(undefined) },
            status: (line) => {
              if (line.startsWith('warning: '))
                status(`warning: ${request.model.run_id}: ${line.slice(9)}`);
            },
            signal,
            cleanup: new Cleanup(),
            redactor,
            guardian: programGuardian.lease(),
            owner: 'library',
            ...(batch === undefined ? {} : { batch }),
            ...(launcher === undefined ? {} : { launcher }),
            observe,
          }),
        ...(options.onMember === undefined
          ? {}
          : { onMember: (entry) => options.onMember?.(structuredClone(entry)) }),
      },
    );
    return record;
  } finally {
    lease.close();
    removeListener?.();
  }
}
