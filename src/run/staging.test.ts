import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineHarness } from '../../test/helpers/pipeline.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { ConfigError } from '../errors.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { runPipeline } from './pipeline.js';

let tree: Tree;
afterEach(() => tree?.remove());

function setup(model: Record<string, unknown>, files: Record<string, string> = {}) {
  tree = makeTree(files);
  return pipelineHarness(tree, model, { type: 'local' });
}

/** Every path under `dir` with its size and mtime: what a run that changes nothing leaves as it was. */
function snapshot(dir: string): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
      const path = join(folder, entry.name);
      const info = statSync(path);
      const line = `${relative(dir, path)} ${info.size} ${info.mtimeMs}`;
      return entry.isDirectory() ? [line, ...walk(path)] : [line];
    });
  return walk(dir).sort();
}

const checksum = () =>
  postprocessorSchema(diskPathContext(tree.root)).parse({
    type: 'checksum',
  }) as PostprocessorConfig;

describe('a dry run', () => {
  it('changes nothing of an earlier run, even with delete_existing', async () => {
    const { request, deps, staging } = setup(
      { command: 'mkdir -p output; echo 1 > output/a.txt', template: 'tpl', delete_existing: true },
      { 'tpl/input.txt': 'x' },
    );
    expect((await runPipeline({ ...request, postprocessors: [checksum()] }, deps)).exitCode).toBe(
      0,
    );
    const before = snapshot(staging);
    expect(before.join('\n')).toMatch(/^output\/a\.txt /m);
    expect(before.join('\n')).toMatch(/^SHA256SUMS /m);
    const result = await runPipeline({ ...request, dryRun: true }, deps);
    expect(result.exitCode).toBe(0);
    expect(snapshot(staging)).toEqual(before);
  });

  it('neither creates nor locks the staging dir, but still reports a template error', async () => {
    const { request, deps, staging } = setup(
      { command: 'true', template: 'tpl' },
      { 'tpl/input.txt': '{{ nope }}' },
    );
    await expect(runPipeline({ ...request, dryRun: true }, deps)).rejects.toThrow(
      /input\.txt, line 1/,
    );
    expect(existsSync(tree.path('simulations'))).toBe(false);
    tree.write('tpl/input.txt', '{{ runtime.staging_dir }}');
    expect((await runPipeline({ ...request, dryRun: true }, deps)).exitCode).toBe(0);
    expect(existsSync(staging)).toBe(false);
  });
});

describe('a rerun into the same staging dir', () => {
  it('moves the earlier record and logs into .modelrun/history, says so once, and checksums neither', async () => {
    const { request, deps, staging, runJson, captured } = setup({
      command: 'echo line >> grows.txt; echo out',
    });
    const withSums = { ...request, postprocessors: [checksum()] };
    expect((await runPipeline(withSums, deps)).exitCode).toBe(0);
    const first = runJson();
    expect((await runPipeline(withSums, deps)).exitCode).toBe(0);
    const history = readdirSync(join(staging, '.modelrun', 'history'));
    expect(history).toHaveLength(1);
    const earlier = join(staging, '.modelrun', 'history', history[0] ?? '');
    expect(JSON.parse(readFileSync(join(earlier, 'run.json'), 'utf8'))).toEqual(first);
    expect(readFileSync(join(earlier, 'logs', 'stdout.log'), 'utf8')).toBe('out\n');
    expect(history[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-[0-9a-f]{6}$/);
    expect(runJson().started_at).not.toBe(first.started_at);
    const warnings = captured.status.filter((line) => line.includes('holds an earlier run'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('give a new run_id or set delete_existing: true');
    const sums = readFileSync(join(staging, 'SHA256SUMS'), 'utf8');
    expect(sums).not.toContain('.modelrun');
    expect(sums).toContain('logs/stdout.log');
  });

  it('with delete_existing, starts clean, keeps the earlier record and does not warn', async () => {
    const { request, deps, staging, captured } = setup({
      command: 'echo line >> grows.txt',
      delete_existing: true,
    });
    await runPipeline(request, deps);
    await runPipeline(request, deps);
    expect(readFileSync(join(staging, 'grows.txt'), 'utf8')).toBe('line\n');
    const history = readdirSync(join(staging, '.modelrun', 'history'));
    expect(history).toHaveLength(1);
    expect(existsSync(join(staging, '.modelrun', 'history', history[0] ?? '', 'run.json'))).toBe(
      true,
    );
    expect(captured.status.join('\n')).not.toContain('earlier run');
  });

  it('keeps the earlier record when the new run fails before its model starts', async () => {
    const { request, deps, staging, runJson } = setup({ command: 'true' });
    await runPipeline(request, deps);
    const first = runJson();
    const broken = { ...request, backend: { ...request.backend, shell: false } };
    broken.model = { ...request.model, command: '/nonexistent/model --go' };
    await runPipeline(broken, deps).catch(() => undefined);
    const history = readdirSync(join(staging, '.modelrun', 'history'));
    expect(
      history.map((name) =>
        JSON.parse(readFileSync(join(staging, '.modelrun', 'history', name, 'run.json'), 'utf8')),
      ),
    ).toContainEqual(first);
    expect(runJson().status).toBe('failed');
  });
});

describe('--cleanup-on-failure', () => {
  it('removes the staging dir of a failed run, and says the summary has nothing to point at', async () => {
    const { request, deps, staging } = setup({ command: 'exit 1' });
    const result = await runPipeline({ ...request, cleanupOnFailure: true }, deps);
    expect(result.exitCode).toBe(1);
    expect(result.cleanup).toEqual({ removed: true });
    expect(existsSync(staging)).toBe(false);
  });

  it.each([
    ['an empty folder that was there before', false],
    ['a symlink to an empty folder of the user', true],
  ])('keeps %s: only a folder this run created is removed', async (_name, link) => {
    const { request, deps, staging, captured } = setup({ command: 'exit 1' });
    const precious = join(tree.root, 'precious_empty');
    mkdirSync(link ? precious : staging, { recursive: true });
    if (link) {
      mkdirSync(join(staging, '..'), { recursive: true });
      symlinkSync(precious, staging);
    }
    const result = await runPipeline({ ...request, cleanupOnFailure: true }, deps);
    expect(result.exitCode).toBe(1);
    expect(result.cleanup).toMatchObject({
      removed: false,
      why: expect.stringContaining('before this run began'),
    });
    expect(lstatSync(staging).isSymbolicLink()).toBe(link);
    if (link) expect(statSync(precious).isDirectory()).toBe(true);
    expect(captured.status.join('\n')).toContain(`--cleanup-on-failure kept ${staging}`);
  });

  it.each([
    [
      'a folder that held files modelrun did not stage',
      { command: 'exit 1' },
      'modelrun did not stage it',
    ],
    [
      'output_dir itself',
      { command: 'exit 1', output_dir: 'sims', run_id_subdir: false },
      'it is output_dir itself',
    ],
    [
      'a folder holding the model file',
      { command: 'exit 1', output_dir: '.', run_id_subdir: true, run_id: 'proj' },
      'which this run was made from',
    ],
  ])('keeps %s, says why, and records the run as failed', async (_name, model, why) => {
    const { request, deps, captured } = setup(model);
    const staging = request.model.run_id_subdir
      ? join(request.model.output_dir, request.model.run_id)
      : request.model.output_dir;
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'mine.txt'), 'keep me');
    // The model file sits in the staging dir only where the case says so.
    const modelFile = join(why.includes('made from') ? staging : tree.root, 'model.yml');
    writeFileSync(modelFile, 'run_id: proj\n');
    const result = await runPipeline(
      { ...request, cleanupOnFailure: true, sources: [modelFile] },
      deps,
    );
    expect(result.exitCode).toBe(1);
    expect(readFileSync(join(staging, 'mine.txt'), 'utf8')).toBe('keep me');
    expect(result.cleanup).toMatchObject({ removed: false, why: expect.stringContaining(why) });
    expect(captured.status.join('\n')).toContain(`--cleanup-on-failure kept ${staging}`);
    const record = JSON.parse(readFileSync(join(staging, '.modelrun', 'run.json'), 'utf8'));
    expect(record.status).toBe('failed');
  });
});

describe('a staging dir modelrun did not make', () => {
  it('is refused when it holds a file of the user’s, which stays as it was, in a dry run too', async () => {
    const { request, deps, staging } = setup(
      { command: 'true', template: 'tpl' },
      { 'tpl/notes.txt': 'NEW', 'simulations/r1/notes.txt': 'mine' },
    );
    for (const dryRun of [true, false])
      await expect(runPipeline({ ...request, dryRun }, deps)).rejects.toThrow(
        /already holds .*notes\.txt, and modelrun did not stage this folder/,
      );
    expect(readFileSync(join(staging, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(staging, '.modelrun'))).toBe(false);
  });

  it('names the file escaped, and with run_id_subdir: false hints another output_dir, not a run_id', async () => {
    const { request, deps } = setup(
      { command: 'true', template: 'tpl', run_id_subdir: false },
      { 'tpl/notes.txt': 'NEW', 'simulations/evil\u202etxt.sh': 'mine' },
    );
    const error = await runPipeline(request, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const { message, hint } = error as ConfigError;
    expect(message).toContain('evil\\u202etxt.sh');
    expect(message).not.toContain('\u202e');
    expect(hint).not.toContain('run_id of its own');
    expect(hint).toContain('point output_dir at a new or empty folder');
  });

  it('is used when it is empty, and a rerun renders over what modelrun wrote', async () => {
    const { request, deps, staging } = setup(
      { command: 'true', template: 'tpl' },
      { 'tpl/notes.txt': 'one' },
    );
    mkdirSync(staging, { recursive: true });
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    tree.write('tpl/notes.txt', 'two');
    expect((await runPipeline(request, deps)).exitCode).toBe(0);
    expect(readFileSync(join(staging, 'notes.txt'), 'utf8')).toBe('two');
  });
});
