import type { Guard } from '../guardian/tasks.js';
import {
  maskPostprocessRecord,
  type PostprocessRecord,
  type StageRecord,
} from '../model/run-record.js';
import { findPostprocessor } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { Redactor } from '../secrets.js';

export interface PostprocessDeps {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  terminal?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  status(line: string): void;
  guard?: Guard | undefined;
  /** Learns the postprocessors' own secrets (a command's env_vars) and masks their results. */
  redactor: Redactor;
  /** Told, before each postprocessor starts, what has ended and which one starts: for a record of the step as it goes. */
  starting?(ended: readonly PostprocessRecord[], type: string): Promise<void>;
}

/**
 * Runs postprocessors in order. A failure marks the stage failed but keeps
 * the outputs, and the rest still run unless the failed one says
 * stop_on_error. The results come back with secrets masked.
 */
export async function runPostprocessors(
  configs: PostprocessorConfig[],
  run: { model: { run_id: string; output_dir: string }; stagingDir: string },
  deps: PostprocessDeps,
): Promise<{ stage: StageRecord; results: PostprocessRecord[] }> {
  const started_at = new Date().toISOString();
  const results: PostprocessRecord[] = [];
  deps.redactor.addSecretsOf(configs);
  let stopped = false;
  for (const config of configs) {
    if (stopped || deps.signal.aborted) {
      results.push({
        type: config.type,
        status: 'skipped',
        summary: deps.signal.aborted
          ? 'cancelled'
          : 'skipped after an earlier failure (stop_on_error)',
      });
      continue;
    }
    await deps.starting?.(results, config.type);
    const definition = findPostprocessor(config.type);
    const began = performance.now();
    const outcome =
      definition === undefined
        ? { status: 'failed' as const, summary: `no postprocessor type "${config.type}"` }
        : await definition.run(config, {
            runId: run.model.run_id,
            stagingDir: run.stagingDir,
            outputDir: run.model.output_dir,
            signal: deps.signal,
            progress: (line) => deps.status(`${config.type}: ${line}`),
            env: deps.env,
            ...(deps.terminal === undefined ? {} : { terminal: deps.terminal }),
            guard: deps.guard,
            redact: (text) => deps.redactor.redact(text),
          });
    const duration_s = Math.round(performance.now() - began) / 1000;
    results.push(maskPostprocessRecord({ type: config.type, ...outcome, duration_s }));
    if (outcome.status === 'failed' && config.stop_on_error) stopped = true;
  }
  const failed = results.some((r) => r.status === 'failed');
  return {
    stage: {
      status: deps.signal.aborted ? 'cancelled' : failed ? 'failed' : 'succeeded',
      started_at,
      ended_at: new Date().toISOString(),
      detail: `${results.filter((r) => r.status === 'succeeded').length} of ${results.length} succeeded`,
    },
    results,
  };
}
