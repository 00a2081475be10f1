import { homedir } from 'node:os';
import type { RunGuardian } from '../guardian/shared.js';
import type { Redactor } from '../secrets.js';
import type { Cleanup } from './cleanup.js';
import {
  type PipelineDeps,
  type PipelineResult,
  type RunRequest,
  runPipeline,
} from './pipeline.js';

export interface ExecuteDeps {
  env: NodeJS.ProcessEnv;
  /** Where the model's output is echoed live. */
  terminal: PipelineDeps['terminal'];
  /** modelrun's own progress lines. */
  status(line: string): void;
  /** Aborting it stops the run and cleans it up. */
  signal: AbortSignal;
  cleanup: Cleanup;
  redactor: Redactor;
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** Takes over the cleanup should this process die; closed when the run ends. */
  guardian: RunGuardian;
  /** What runs it, for run.json: see PipelineDeps.owner. */
  owner: PipelineDeps['owner'];
  /** `run --detach` on a backend whose engine keeps the run alone: see PipelineDeps.detach. */
  detach?: PipelineDeps['detach'];
  detachedPostprocess?: PipelineDeps['detachedPostprocess'];
  batch?: PipelineDeps['batch'];
  launcher?: PipelineDeps['launcher'];
  observe?: PipelineDeps['observe'];
}

/**
 * One run of a request, as the CLI's run commands and the library's
 * runModel both make it: the pipeline under a guardian, which is let go once
 * the pipeline has undone what it started itself.
 */
export async function executeRun(request: RunRequest, deps: ExecuteDeps): Promise<PipelineResult> {
  if (!request.dryRun) deps.guardian.prepare();
  try {
    return await runPipeline(request, {
      env: deps.env,
      home: homedir(),
      terminal: deps.terminal,
      status: deps.status,
      signal: deps.signal,
      cleanup: deps.cleanup,
      redactor: deps.redactor,
      ...(deps.progress === undefined ? {} : { progress: deps.progress }),
      guard: deps.guardian.guard,
      ...(deps.owner === undefined ? {} : { owner: deps.owner }),
      ...(deps.detach === undefined ? {} : { detach: deps.detach }),
      ...(deps.detachedPostprocess === undefined
        ? {}
        : { detachedPostprocess: deps.detachedPostprocess }),
      ...(deps.batch === undefined ? {} : { batch: deps.batch }),
      ...(deps.launcher === undefined ? {} : { launcher: deps.launcher }),
      ...(deps.observe === undefined ? {} : { observe: deps.observe }),
    });
  } finally {
    deps.guardian.close();
  }
}
