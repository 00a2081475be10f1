import { readdir } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { ModelConfig } from '../model/model-config.js';
import type { StageRecord } from '../model/run-record.js';
import { emptyDir, MODELRUN_DIR } from '../model/staging-dir.js';
import { makeStagingDir, stagingFsError } from '../model/staging-place.js';
import { buildTemplateContext } from '../model/template-context.js';
import { count } from '../plural.js';

export interface GenerateDeps {
  status(line: string): void;
  /** Aborted on SIGINT or SIGTERM: rendering stops between entries. */
  signal?: AbortSignal | undefined;
}

export interface GenerateOptions {
  /** The folder delete_existing empties, as checkStaging() allowed it; none when undefined. */
  empty?: string | undefined;
  /** Source files in the staging dir, relative to it, that no template entry may replace. */
  keep?: string[] | undefined;
  /**
   * For a dry run: render the template into this scratch folder instead, so
   * that its errors show while the staging dir is left as it is.
   */
  renderInto?: string | undefined;
}

/** Stages the model's inputs: empties the staging directory when asked, then renders the template. */
export async function generate(
  request: {
    model: ModelConfig;
    skipGenerate: boolean;
    member?: { scope: Record<string, unknown> };
  },
  stagingDir: string,
  deps: GenerateDeps,
  options: GenerateOptions = {},
): Promise<StageRecord> {
  const started_at = new Date().toISOString();
  if (request.skipGenerate) {
    await assertStaged(stagingDir);
    return { status: 'skipped', started_at, detail: '--skip-generate' };
  }
  const { model } = request;
  const dryRun = options.renderInto !== undefined;
  if (!dryRun) {
    // modelrun's own folder stays: the lock, and the history of earlier runs.
    if (options.empty !== undefined) await emptyStagingDir(options.empty, model.output_dir);
    await makeStagingDir(stagingDir);
  }
  if (model.template === undefined) {
    return {
      status: 'succeeded',
      started_at,
      ended_at: new Date().toISOString(),
      detail: 'no template',
    };
  }
  // Nunjucks is loaded only for models that have a template.
  const { renderTemplate } = await import('../model/render-template.js');
  const summary = await renderTemplate(
    model.template,
    options.renderInto ?? stagingDir,
    // The template sees the real staging dir, even when a dry run renders elsewhere.
    buildTemplateContext(model, stagingDir, new Date(), request.member?.scope),
    { keep: options.keep ?? [], signal: deps.signal },
  );
  if (deps.signal?.aborted)
    return { status: 'cancelled', started_at, ended_at: new Date().toISOString() };
  for (const warning of summary.warnings) deps.status(`warning: ${warning}`);
  const detail = `${count(summary.files, 'file')} from ${model.template} (${summary.rendered} rendered, ${summary.copied} copied, ${summary.linked} linked)`;
  deps.status(dryRun ? `the template renders: ${detail}` : `generated ${detail}`);
  return { status: 'succeeded', started_at, ended_at: new Date().toISOString(), detail };
}

/** delete_existing: empties the folder, keeping modelrun's own; a file it cannot remove is named as such. */
async function emptyStagingDir(dir: string, outputDir: string): Promise<void> {
  try {
    await emptyDir(dir, [MODELRUN_DIR]);
  } catch (error) {
    throw stagingFsError(error, dir, outputDir, 'remove') ?? error;
  }
}

/** For --skip-generate: the staging directory must exist and hold more than modelrun's own files. */
export async function assertStaged(stagingDir: string): Promise<void> {
  const entries = await readdir(stagingDir).catch(() => undefined);
  if (entries === undefined || entries.filter((name) => name !== MODELRUN_DIR).length === 0) {
    throw new UsageError(
      `--skip-generate: the staging directory ${stagingDir} is ${entries === undefined ? 'missing' : 'empty'}`,
      {
        hint: 'stage it first with `modelrun generate`, or drop --skip-generate',
      },
    );
  }
}
