import { mkdir, readdir } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { ModelConfig } from '../model/model-config.js';
import type { StageRecord } from '../model/run-record.js';
import { assertSafeToEmpty, emptyDir } from '../model/staging-dir.js';
import { LOCK_OWNER_PATH, LOCK_PATH } from '../model/staging-lock-files.js';
import { buildTemplateContext } from '../model/template-context.js';

export interface GenerateDeps {
  cwd: string;
  home: string;
  status(line: string): void;
}

/** Stages the model's inputs: empties the staging directory when asked, then renders the template. */
export async function generate(
  request: { model: ModelConfig; skipGenerate: boolean },
  stagingDir: string,
  deps: GenerateDeps,
): Promise<StageRecord> {
  const started_at = new Date().toISOString();
  if (request.skipGenerate) {
    await assertStaged(stagingDir);
    return { status: 'skipped', started_at, detail: '--skip-generate' };
  }
  const { model } = request;
  if (model.delete_existing) {
    assertSafeToEmpty(stagingDir, model.output_dir, deps);
    await emptyDir(stagingDir, [LOCK_PATH, LOCK_OWNER_PATH]);
  }
  await mkdir(stagingDir, { recursive: true });
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
    stagingDir,
    buildTemplateContext(model, stagingDir),
  );
  for (const warning of summary.warnings) deps.status(`warning: ${warning}`);
  const detail = `${summary.files} files from ${model.template} (${summary.rendered} rendered, ${summary.copied} copied, ${summary.linked} linked)`;
  deps.status(`generated ${detail}`);
  return { status: 'succeeded', started_at, ended_at: new Date().toISOString(), detail };
}

/** For --skip-generate: the staging directory must exist and hold more than modelrun's own files. */
export async function assertStaged(stagingDir: string): Promise<void> {
  const entries = await readdir(stagingDir).catch(() => undefined);
  if (entries === undefined || entries.filter((name) => name !== '.modelrun').length === 0) {
    throw new UsageError(
      `--skip-generate: the staging directory ${stagingDir} is ${entries === undefined ? 'missing' : 'empty'}`,
      {
        hint: 'stage it first with `modelrun generate`, or drop --skip-generate',
      },
    );
  }
}
