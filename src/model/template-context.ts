import { arch, cpus, hostname, platform } from 'node:os';
import { userName } from '../exec/env.js';
import { type Period, periodSteps } from './period.js';

/**
 * What templates see: `runtime` (facts about this run), `config` (the
 * model's parameters) and, for a member of an ensemble, `member` (its
 * values, index and replica).
 */
export interface TemplateContext {
  runtime: {
    run_id: string;
    staging_dir: string;
    generated_at: string;
    host: { hostname: string; platform: string; arch: string; cpus: number; user: string };
    period?: {
      start: string;
      end: string;
      interval: string;
      interval_seconds: number;
      steps: string[];
    };
  };
  config: Record<string, unknown>;
  member?: Record<string, unknown>;
}

export function buildTemplateContext(
  model: { run_id: string; period?: Period | undefined; config: Record<string, unknown> },
  stagingDir: string,
  now: Date = new Date(),
  member?: Record<string, unknown>,
): TemplateContext {
  return {
    ...(member === undefined ? {} : { member }),
    runtime: {
      run_id: model.run_id,
      staging_dir: stagingDir,
      generated_at: now.toISOString(),
      host: hostFacts(),
      ...(model.period === undefined
        ? {}
        : {
            period: {
              start: model.period.start,
              end: model.period.end,
              interval: model.period.interval,
              interval_seconds: model.period.intervalSeconds,
              steps: periodSteps(model.period),
            },
          }),
    },
    config: model.config,
  };
}

/** The host, as templates and run records name it: read once per process, as an ensemble's members all ask. */
export function hostFacts() {
  facts ??= {
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    cpus: cpus().length,
    user: userName() ?? 'unknown',
  };
  return { ...facts };
}

let facts:
  | { hostname: string; platform: string; arch: string; cpus: number; user: string }
  | undefined;
