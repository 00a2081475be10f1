import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeContext } from '../../test/helpers/command-context.js';
import { makeTree } from '../../test/helpers/tree.js';
import { uniqueId } from '../../test/helpers/unique-id.js';
import { runBackendsCreate } from './backends-create.js';
import { runBackendsList } from './backends-list.js';
import { runBackendsSchema } from './backends-schema.js';
import { runBackendsValidate } from './backends-validate.js';
import { runCompletion } from './completion.js';
import { runGenerate } from './generate.js';
import { runInit } from './init.js';
import { runValidate } from './model-validate.js';
import { runPipelineCommand } from './pipeline.js';
import { runPostprocessCommand } from './postprocess.js';
import { buildProgram } from './program.js';
import { runModelCommand } from './run-model.js';

/** Each command's plain function, called without argv, as the table's actions call it. */

const tree = makeTree();
afterAll(() => tree.remove());

const model = (runId: string) => `run_id: ${runId}\noutput_dir: runs\ncommand: "true"\n`;
/** No --set, and no site config: the user's own must not change what these tests see. */
const noLayers = { set: [], setString: [], siteConfig: false };
const runFlags = { dryRun: true, skipGenerate: false, postprocess: true, json: false };

describe('validate and backends validate', () => {
  it('runValidate checks each file by its kind and exits 1 for an invalid one', async () => {
    tree.write('v/model.yml', model('v1'));
    tree.write('v/local.yml', 'type: local\ntimout: 5m\n');
    const { ctx, stdout } = fakeContext(tree.path('v'));
    const code = await runValidate(
      { ...noLayers, files: ['model.yml', 'local.yml'], format: 'text' },
      ctx,
    );
    expect(code).toBe(1);
    expect(stdout()).toContain('✓ model.yml  model · run v1 · command true');
    expect(stdout()).toContain('error local.yml:2:1  timout: unknown key');
  });

  it('runBackendsValidate reports JSON, exit 0 for valid files', async () => {
    tree.write('bv/docker.yml', 'type: docker\nimage: ubuntu:22.04\n');
    const { ctx, stdout } = fakeContext(tree.path('bv'));
    const code = await runBackendsValidate(
      { ...noLayers, explain: false, files: ['docker.yml'], format: 'json' },
      ctx,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toEqual([
      { file: 'docker.yml', valid: true, type: 'docker', errors: [], warnings: [] },
    ]);
  });

  it('runBackendsValidate holds every file to --backend-type', async () => {
    tree.write('bt/local.yml', 'type: local\n');
    const { ctx, stdout } = fakeContext(tree.path('bt'));
    const code = await runBackendsValidate(
      { ...noLayers, explain: false, files: ['local.yml'], format: 'text', backendType: 'docker' },
      ctx,
    );
    expect(code).toBe(1);
    expect(stdout()).toContain('✗ local.yml');
  });
});

describe('backends list, schema and create', () => {
  it('runBackendsList lists every backend type and postprocessor as JSON', async () => {
    const { ctx, stdout } = fakeContext(tree.root);
    expect(await runBackendsList({ json: true, timeoutMs: 500 }, ctx)).toBe(0);
    const listed = JSON.parse(stdout()) as { backends: { type: string; available: boolean }[] };
    expect(listed.backends.map((b) => b.type)).toEqual(['local', 'docker', 'apptainer', 'slurm']);
    expect(listed.backends[0]?.available).toBe(true);
  });

  it('runBackendsSchema prints one type’s schema, and refuses --all without --output', async () => {
    const { ctx, stdout } = fakeContext(tree.root);
    const options = { backendType: 'local', all: false, format: 'json', force: false } as const;
    expect(await runBackendsSchema(options, ctx)).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ properties: { type: { const: 'local' } } });
    await expect(
      runBackendsSchema({ all: true, format: 'json', force: false }, ctx),
    ).rejects.toThrow('--all writes one file per schema');
  });

  it('runBackendsCreate writes a config that runBackendsValidate accepts', async () => {
    const { ctx, stderr } = fakeContext(tree.path('c'));
    tree.write('c/.keep', '');
    const options = {
      backendType: 'slurm',
      output: 'slurm.yml',
      withExamples: false,
      force: false,
    };
    expect(await runBackendsCreate(options, ctx)).toBe(0);
    expect(stderr()).toContain('wrote slurm.yml');
    expect(
      await runBackendsValidate(
        { ...noLayers, explain: false, files: ['slurm.yml'], format: 'text' },
        ctx,
      ),
    ).toBe(0);
  });
});

describe('run, pipeline, generate and postprocess', () => {
  it('runModelCommand --dry-run prints the plan and starts nothing', async () => {
    const runId = uniqueId('dry');
    tree.write('r/model.yml', model(runId));
    const { ctx, stdout } = fakeContext(tree.path('r'));
    const code = await runModelCommand(
      { ...noLayers, modelFile: 'model.yml', postprocessorConfigs: [], ...runFlags, detach: false },
      ctx,
    );
    expect(code).toBe(0);
    expect(stdout()).toContain(`staging dir    ${tree.path('r', 'runs', runId)}`);
    expect(existsSync(tree.path('r', 'runs', runId, '.modelrun', 'run.json'))).toBe(false);
  });

  it('runModelCommand reports a bad model and a bad backend config in one go', async () => {
    tree.write('both/model.yml', 'run_id: x\nnot_a_field: 1\n');
    tree.write('both/local.yml', 'type: local\ntimout: 5m\n');
    const { ctx, stderr } = fakeContext(tree.path('both'));
    const code = await runModelCommand(
      {
        ...noLayers,
        modelFile: 'model.yml',
        backendConfig: 'local.yml',
        postprocessorConfigs: [],
        ...runFlags,
        detach: false,
      },
      ctx,
    );
    expect(code).toBe(2);
    expect(stderr()).toContain('model file model.yml is not valid (1 error)');
    expect(stderr()).toContain('backend config local.yml is not valid (1 error)');
    expect(stderr()).toContain('local.yml:2:1  timout: unknown key');
  });

  it('runPipelineCommand --dry-run takes the model from the pipeline file', async () => {
    const runId = uniqueId('pipe');
    tree.write('p/model.yml', model(runId));
    tree.write('p/pipeline.yml', 'model: model.yml\nbackend:\n  type: local\n');
    const { ctx, stdout } = fakeContext(tree.path('p'));
    const code = await runPipelineCommand(
      {
        ...noLayers,
        pipelineFile: 'pipeline.yml',
        postprocessorConfigs: [],
        cleanupOnFailure: false,
        ...runFlags,
      },
      ctx,
    );
    expect(code).toBe(0);
    expect(stdout()).toContain(`staging dir    ${tree.path('p', 'runs', runId)}`);
  });

  it('runGenerate stages the template and prints the staging dir', async () => {
    const runId = uniqueId('gen');
    tree.write('g/template/input.txt', 'steps {{ 2 + 3 }}\n');
    tree.write('g/model.yml', `${model(runId)}template: template\n`);
    const { ctx, stdout } = fakeContext(tree.path('g'));
    expect(await runGenerate({ ...noLayers, modelFile: 'model.yml', json: false }, ctx)).toBe(0);
    const stagingDir = tree.path('g', 'runs', runId);
    expect(stdout()).toBe(`${stagingDir}\n`);
    expect(readFileSync(`${stagingDir}/input.txt`, 'utf8')).toBe('steps 5\n');
  });

  it('runGenerate --json prints the staging dir and what the stage did', async () => {
    const runId = uniqueId('gen-json');
    tree.write('gj/template/input.txt', 'steps {{ 2 + 3 }}\n');
    tree.write('gj/model.yml', `${model(runId)}template: template\n`);
    const { ctx, stdout } = fakeContext(tree.path('gj'));
    expect(await runGenerate({ ...noLayers, modelFile: 'model.yml', json: true }, ctx)).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({
      run_id: runId,
      staging_dir: tree.path('gj', 'runs', runId),
      generate: { status: 'succeeded', detail: expect.stringContaining('1 rendered') },
    });
  });

  it('runPostprocessCommand refuses a run that was never made', async () => {
    const runId = uniqueId('post');
    tree.write('pp/model.yml', model(runId));
    tree.write('pp/checksum.yml', 'type: checksum\n');
    const { ctx } = fakeContext(tree.path('pp'));
    await expect(
      runPostprocessCommand(
        {
          ...noLayers,
          modelFile: 'model.yml',
          postprocessorConfigs: ['checksum.yml'],
          json: false,
        },
        ctx,
      ),
    ).rejects.toThrow(`no run at ${tree.path('pp', 'runs', runId)}`);
  });
});

describe('init and completion', () => {
  it('runInit writes the starter project and says what to run next', async () => {
    const { ctx, stderr } = fakeContext(tree.root);
    expect(await runInit({ dir: 'starter', json: false }, ctx)).toBe(0);
    expect(existsSync(tree.path('starter', 'model.yml'))).toBe(true);
    expect(stderr()).toContain('modelrun run model.yml');
  });

  it('runInit --json prints the folder, every file written, and the next command', async () => {
    const { ctx, stdout } = fakeContext(tree.root);
    expect(await runInit({ dir: 'starter-json', json: true }, ctx)).toBe(0);
    const printed = JSON.parse(stdout()) as { dir: string; files: string[]; next: string };
    expect(printed.dir).toBe(tree.path('starter-json'));
    expect(printed.files).toContain(tree.path('starter-json', 'model.yml'));
    for (const file of printed.files) expect(existsSync(file)).toBe(true);
    expect(printed.next).toBe('cd starter-json && modelrun run model.yml');
  });

  it('runCompletion prints a script that offers every backend type', async () => {
    const { ctx, stdout } = fakeContext(tree.root);
    const sink = { write: () => true };
    const program = buildProgram({ ...ctx, stdout: sink, stderr: sink, setExitCode: () => {} });
    expect(await runCompletion({ shell: 'bash' }, ctx, program)).toBe(0);
    expect(stdout()).toContain('complete -F');
    expect(stdout()).toContain('local docker apptainer slurm');
  });
});
