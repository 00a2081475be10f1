import { getEventListeners } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, waitFor, waitUntilGone } from '../test/helpers/processes.js';
import { makeTree, type Tree } from '../test/helpers/tree.js';
import { uniqueId } from '../test/helpers/unique-id.js';
import {
  ConfigError,
  jsonSchemas,
  type RunRecord,
  runEnsemble,
  runModel,
  UsageError,
  validateBackend,
  validateModel,
  validatePipeline,
  validatePostprocessor,
} from './index.js';
import { schemaFolderFiles } from './schema/json-schema.js';

const trees: Tree[] = [];
const tree = (spec: Record<string, string> = {}) => {
  const made = makeTree(spec);
  trees.push(made);
  return made;
};
afterEach(() => {
  for (const made of trees.splice(0)) made.remove();
});

describe('validate functions', () => {
  it('place each error of a file at its line, column and field', () => {
    const dir = tree({ 'docker.yml': 'type: docker\nimage: alpine\ncpu: lots\n' });
    const result = validateBackend(dir.path('docker.yml'), { file: 'docker.yml' });
    expect(result.value).toBeUndefined();
    expect(result.errors).toEqual([
      expect.objectContaining({ file: 'docker.yml', line: 3, column: 6, path: 'cpu' }),
    ]);
  });

  it('check an object with the rules of a file, and give its value with defaults filled in', () => {
    const bad = validateBackend({ type: 'docker', image: 'alpine', cpu: 'lots' });
    expect(bad.errors).toEqual([
      { message: expect.any(String), path: 'cpu', file: '(backend config object)' },
    ]);
    const good = validateBackend({ type: 'local', timeout: '2m' });
    expect(good.errors).toEqual([]);
    expect(good.value).toMatchObject({ type: 'local', timeout: 120 });
  });

  it('take ${VAR} values from the env option, for objects as for files', () => {
    const result = validateBackend(
      { type: 'docker', image: '${IMAGE}', cpu: '${NCPU}' },
      { env: { IMAGE: 'alpine', NCPU: '2' } },
    );
    expect(result.errors).toEqual([]);
    expect(result.value).toMatchObject({ image: 'alpine', cpu: 2 });
  });

  it("resolve an object's relative paths against the folder of the file option", () => {
    const dir = tree({ 'template/in.txt': 'x' });
    const result = validateModel(
      { run_id: 'r', command: 'true', template: './template' },
      { file: dir.path('model.yml') },
    );
    expect(result.errors).toEqual([]);
    expect(result.value?.template).toBe(dir.path('template'));
    expect(result.value?.output_dir).toBe(dir.path('simulations'));
  });

  it('report a missing file or data that is not config without throwing', () => {
    const missing = validatePipeline('/nonexistent/pipeline.yml');
    expect(missing.errors).toEqual([
      expect.objectContaining({ file: '/nonexistent/pipeline.yml', hint: 'check the path' }),
    ]);
    const bigint = validatePostprocessor({ type: 'checksum', n: 1n });
    expect(bigint.errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('cannot be read as config') }),
    ]);
    expect(validateModel(null as unknown as Record<string, unknown>).errors).not.toEqual([]);
  });

  it('give values that cannot be changed afterwards, down to nested fields', () => {
    const dir = tree({ 'tpl/in.txt': 'x' });
    const { value } = validateModel(
      { run_id: 'ok', output_dir: './sims', template: './tpl', command: 'true', config: { n: 1 } },
      { file: dir.path('model.yml') },
    );
    if (value === undefined) throw new Error('the model should be valid');
    // runModel trusts a validated value: a run_id of '..' would stage outside output_dir.
    expect(() => Object.assign(value, { run_id: '..' })).toThrow(TypeError);
    expect(() => Object.assign(value.config, { n: 2 })).toThrow(TypeError);
    expect(() => value.postprocess.push({ type: 'noop', stop_on_error: true })).toThrow(TypeError);
    expect(value.run_id).toBe('ok');
    const backend = validateBackend({ type: 'local', env_vars: { A: '1' } }).value;
    expect(() => Object.assign(backend?.env_vars ?? {}, { A: '2' })).toThrow(TypeError);
  });
});

it('jsonSchemas gives the same schemas as `backends schema --all` writes', () => {
  const files = schemaFolderFiles();
  const schemas = jsonSchemas();
  expect(Object.keys(schemas).sort()).toEqual(
    [...files.keys()].filter((n) => n.endsWith('.json')).sort(),
  );
  for (const [name, schema] of Object.entries(schemas))
    expect(schema).toEqual(JSON.parse(files.get(name) as string));
});

describe('runModel', () => {
  it('resolves with the run record that run.json holds, and echoes the output only where asked', async () => {
    const dir = tree();
    let out = '';
    const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += chunk));
    const record = await runModel({
      model: { run_id: uniqueId('lib'), output_dir: dir.root, command: 'echo hello; exit 3' },
      stdout,
    });
    expect(record).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(out).toBe('hello\n');
    const onDisk = JSON.parse(
      readFileSync(join(record.staging_dir, '.modelrun', 'run.json'), 'utf8'),
    ) as RunRecord;
    expect(onDisk).toEqual(record);
  });

  it('rejects an invalid model with a ConfigError naming the field', async () => {
    const run = runModel({ model: { run_id: 'r', command: 'true', timeout: 'soon' } });
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/timeout/);
    await expect(runModel({ model: '/nonexistent/model.yml' })).rejects.toThrow(/does not exist/);
  });

  it('stops the model and cleans up when its AbortSignal fires, and says cancelled', async () => {
    const dir = tree();
    const controller = new AbortController();
    const pidFile = dir.path('pid');
    const run = runModel({
      model: {
        run_id: uniqueId('lib-abort'),
        output_dir: dir.root,
        command: `echo $$ > ${pidFile}; exec sleep 60`,
      },
      signal: controller.signal,
    });
    const started = await waitFor(() => {
      try {
        return readFileSync(pidFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    }, 10_000);
    expect(started).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    controller.abort();
    const record = await run;
    expect(record).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled through its AbortSignal',
    });
    expect(await waitUntilGone(pid)).toBe(true);
    expect(isRunning(pid)).toBe(false);
  });

  it('rejects a cwd that does not exist, naming it, and creates nothing there', async () => {
    const dir = tree();
    const cwd = dir.path('no/such/folder');
    const run = runModel({ model: { run_id: 'odd', output_dir: './sims', command: 'true' }, cwd });
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(/`cwd`.*no\/such\/folder/);
    expect(existsSync(dir.path('no'))).toBe(false);
  });

  const model = { run_id: 'opts', command: 'true' };
  it.each([
    ['no options at all', undefined, /options object/],
    ['no model', {}, /`model`/],
    ['a model that is a number', { model: 42 }, /`model`/],
    ['a signal that is not an AbortSignal', { model, signal: {} }, /`signal`.*AbortSignal/],
    ['an env that is not strings', { model, env: { N: 4 } }, /`env`/],
    ['a cwd that is not a string', { model, cwd: 7 }, /`cwd`/],
    ['a stdout without write()', { model, stdout: {} }, /`stdout`/],
    ['an onStatus that is not a function', { model, onStatus: 'log' }, /`onStatus`/],
    ['a dryRun that is not a boolean', { model, dryRun: 'yes' }, /`dryRun`/],
    [
      'postprocessors that are not an array',
      { model, postprocessors: 'a.yml' },
      /`postprocessors`/,
    ],
  ])('rejects %s with a UsageError naming the option', async (_name, options, says) => {
    const run = runModel(options as unknown as Parameters<typeof runModel>[0]);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(says);
  });

  // A misspelt option must not be ignored: a misspelt dry run would run the model for real.
  it.each([
    ['dryrun', { dryrun: true }, /no `dryrun` option; did you mean `dryRun`\?/],
    [
      'postProcess',
      { postProcess: false },
      /no `postProcess` option; did you mean `postprocess`\?/,
    ],
    [
      'skip_generate',
      { skip_generate: true },
      /no `skip_generate` option; did you mean `skipGenerate`\?/,
    ],
    ['abortSignal', { abortSignal: new AbortController().signal }, /no `abortSignal` option$/],
  ])('rejects the unknown option %s before running anything', async (_name, extra, says) => {
    const dir = tree();
    const model = { run_id: uniqueId('lib-typo'), output_dir: dir.root, command: 'touch ran' };
    const run = runModel({ model, cwd: dir.root, ...extra } as Parameters<typeof runModel>[0]);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(says);
    await expect(run).rejects.toMatchObject({ hint: expect.stringContaining('`dryRun`') });
    expect(readdirSync(dir.root)).toEqual([]);
  });

  it('runs many at once on one AbortSignal without a listener warning, and removes each listener', async () => {
    const dir = tree();
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const runs = Array.from({ length: 12 }, (_, i) =>
        runModel({
          model: { run_id: uniqueId(`lib-many${i}`), output_dir: dir.root, command: 'true' },
          signal: controller.signal,
          dryRun: true,
        }),
      );
      expect((await Promise.all(runs)).map((r) => r.status)).toEqual(Array(12).fill('succeeded'));
      // Node emits the warning on the next tick.
      await new Promise((done) => setImmediate(done));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('validate functions, given options they cannot take,', () => {
  it.each([
    ['options that are not an object', 'x', /options must be an object/],
    ['an env that is not strings', { env: { N: 4 } }, /`env`/],
    ['a file that is not a string', { file: 3 }, /`file`/],
    ['a misspelt option', { File: 'model.yml' }, /no `File` option; did you mean `file`\?/],
    ['an unknown option', { strict: true }, /validateModel has no `strict` option$/],
  ])('throw a UsageError for %s', (_name, options, says) => {
    const call = () =>
      validateModel({ run_id: 'opts', command: 'true' }, options as unknown as { file?: string });
    expect(call).toThrow(UsageError);
    expect(call).toThrow(says);
  });
});

describe('runEnsemble', () => {
  it('runs every member and resolves with the record ensemble.json holds', async () => {
    const dir = tree();
    dir.write('model.yml', 'run_id: lib\ncommand: "test $X != 3"\n');
    dir.write(
      'ensemble.yml',
      'model: model.yml\nrun_id: x{{ member.X }}\nparameters:\n  backend.env_vars.X: ["1", "2", "3"]\n',
    );
    const seen: string[] = [];
    const record = await runEnsemble({
      file: 'ensemble.yml',
      cwd: dir.root,
      maxParallel: 2,
      onMember: (member) => seen.push(`${member.run_id} ${member.status}`),
    });
    expect(record.status).toBe('failed');
    expect(record.members.map((m) => [m.run_id, m.status])).toEqual([
      ['x1', 'succeeded'],
      ['x2', 'succeeded'],
      ['x3', 'failed'],
    ]);
    expect(seen).toContain('x3 failed');
    const onDisk = JSON.parse(readFileSync(join(record.dir, 'ensemble.json'), 'utf8'));
    expect(onDisk).toEqual(record);
  });

  it('rejects an invalid member with a ConfigError, and an unknown option with a UsageError', async () => {
    const dir = tree();
    dir.write('model.yml', 'run_id: lib\ncommand: "true"\n');
    dir.write('ensemble.yml', 'model: model.yml\nparameters:\n  backend.timeout: [soon]\n');
    await expect(runEnsemble({ file: 'ensemble.yml', cwd: dir.root })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(
      runEnsemble({ file: 'ensemble.yml', cwd: dir.root, paralel: 2 } as unknown as Parameters<
        typeof runEnsemble
      >[0]),
    ).rejects.toThrow(/paralel/);
  });
});
