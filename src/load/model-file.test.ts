import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { MODEL_CASE_TREE, MODEL_CASES } from '../../test/cases/model-cases.js';
import { POSTPROCESSOR_CASES } from '../../test/cases/postprocessor-cases.js';
import { describeRules } from '../../test/helpers/rules.js';
import { makeTree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { MAX_PERIOD_STEPS, periodSchema, periodSteps } from '../model/period.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import { backendConfigSchema } from './backend-config.js';
import { validateModelFile, validatePostprocessorFile } from './model-file.js';
import { modelConfigSchema } from './model-schema.js';
import { validateText } from './validate.js';

const tree = makeTree(MODEL_CASE_TREE);
afterAll(() => tree.remove());

const ctx = diskPathContext(tree.root);
const check =
  <T>(schema: z.ZodType<T>) =>
  (yaml: string) =>
    validateText(tree.path('case.yml'), yaml, schema, { env: {} });
const checkModel = check(modelConfigSchema(ctx));
const checkPostprocessor = check(postprocessorSchema(ctx));

describeRules('model file rules', MODEL_CASES, checkModel);
describeRules('postprocessor config rules', POSTPROCESSOR_CASES, checkPostprocessor);

describe('parsed model values', () => {
  it('fills defaults', () => {
    expect(checkModel('run_id: r1\n').value).toEqual({
      run_id: 'r1',
      output_dir: tree.path('simulations'),
      run_id_subdir: true,
      delete_existing: false,
      config: {},
      mpi: false,
      postprocess: [],
    });
  });

  it("resolves output_dir and template against the model file's folder, not the working directory", () => {
    const file = tree.write('runs/wave/model.yml', 'run_id: r1\ntemplate: template\n');
    tree.write('runs/wave/template/input.json', '{}\n');
    tree.write('runs/other.yml', 'run_id: r1\noutput_dir: ../out\n');

    const wave = validateModelFile(file, {});
    expect(wave.errors).toEqual([]);
    expect(wave.value?.output_dir).toBe(tree.path('runs/wave/simulations'));
    expect(wave.value?.template).toBe(tree.path('runs/wave/template'));
    expect(validateModelFile(tree.path('runs/other.yml'), {}).value?.output_dir).toBe(
      tree.path('out'),
    );
  });

  it.each([
    ['/srv/simulations', '/srv/simulations'],
    ['/srv/a/../simulations/', '/srv/simulations'],
    ['~/simulations', join(homedir(), 'simulations')],
    ['~', homedir()],
  ])('makes output_dir %s absolute: %s', (written, absolute) => {
    expect(
      checkModel(`run_id: r1\noutput_dir: ${JSON.stringify(written)}\n`).value?.output_dir,
    ).toBe(absolute);
  });

  it('keeps config as written', () => {
    const value = checkModel('run_id: r1\nconfig:\n  grid: {nx: 400}\n  steps: [1, 2]\n').value;
    expect(value?.config).toEqual({ grid: { nx: 400 }, steps: [1, 2] });
  });

  it('fills the defaults of each postprocessor in the list', () => {
    const value = checkModel(
      'run_id: r1\npostprocess:\n  - type: checksum\n  - type: command\n    command: ls\n',
    ).value;
    expect(value?.postprocess).toEqual([
      {
        type: 'checksum',
        stop_on_error: false,
        include: ['**'],
        exclude: [],
        output: 'SHA256SUMS',
      },
      { type: 'command', stop_on_error: false, command: 'ls', timeout: 600 },
    ]);
  });

  it.each([
    [
      'UTC',
      ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '1h'],
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', 3600],
    ],
    [
      'offsets',
      ['2024-01-01T02:00:00+02:00', '2024-01-01T18:30:00-05:30', '15m'],
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', 900],
    ],
    [
      'no offset, read as UTC',
      ['2024-01-01T00:00:00', '2024-01-02T00:00', '1d2h3m4s'],
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z', 93_784],
    ],
  ])('normalises a period in %s to ISO UTC', (_what, [start, end, interval], expected) => {
    const value = checkModel(
      `run_id: r1\nperiod:\n  start: "${start}"\n  end: "${end}"\n  interval: ${interval}\n`,
    ).value;
    const [startUtc, endUtc, intervalSeconds] = expected;
    expect(value?.period).toEqual({ start: startUtc, end: endUtc, interval, intervalSeconds });
  });
});

describe('period steps', () => {
  const steps = (start: string, end: string, interval: string) =>
    periodSteps(periodSchema.parse({ start, end, interval }));

  it('cuts 6 hours every 15 minutes into 25 steps, both ends included', () => {
    const list = steps('2024-01-01T00:00:00Z', '2024-01-01T06:00:00Z', '15m');
    expect(list).toHaveLength(25);
    expect(list.slice(0, 2)).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-01T00:15:00.000Z']);
    expect(list.at(-1)).toBe('2024-01-01T06:00:00.000Z');
  });

  it.each([
    [
      'includes an end on a step',
      ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', '30m'],
      ['00:00', '00:30', '01:00'],
    ],
    [
      'stops at the last step before an end between steps',
      ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', '25m'],
      ['00:00', '00:25', '00:50'],
    ],
    [
      'gives one step when the interval is longer than the period',
      ['2024-01-01T00:00:00Z', '2024-01-01T00:10:00Z', '1h'],
      ['00:00'],
    ],
    [
      'gives the steps in UTC',
      ['2024-01-01T01:00:00+01:00', '2024-01-01T02:00:00+01:00', '1h'],
      ['00:00', '01:00'],
    ],
  ])('%s', (_what, [start = '', end = '', interval = ''], times) => {
    expect(steps(start, end, interval)).toEqual(times.map((time) => `2024-01-01T${time}:00.000Z`));
  });

  it(`allows exactly ${MAX_PERIOD_STEPS} steps and refuses one more`, () => {
    const period = (end: string) =>
      periodSchema.safeParse({ start: '2024-01-01T00:00:00Z', end, interval: '1s' });
    expect(period('2024-01-12T13:46:39Z').success).toBe(true);
    expect(period('2024-01-12T13:46:40Z').error?.issues[0]?.message).toBe(
      `cuts the period into ${MAX_PERIOD_STEPS + 1} steps; at most ${MAX_PERIOD_STEPS} are allowed`,
    );
  });
});

describe('parsed postprocessor values', () => {
  it.each([
    ['noop', { validate_outputs: true }],
    ['archive', { format: 'tar.gz', include: ['**'], exclude: [] }],
    ['checksum', { output: 'SHA256SUMS', include: ['**'], exclude: [] }],
  ])('fills the defaults of %s', (type, defaults) => {
    expect(checkPostprocessor(`type: ${type}\n`).value).toEqual({
      type,
      stop_on_error: false,
      ...defaults,
    });
  });

  it("resolves an archive destination against the config file's folder", () => {
    const file = tree.write('post/archive.yml', 'type: archive\ndestination: latest.zip\n');
    expect(validatePostprocessorFile(file, {}).value?.destination).toBe(
      tree.path('post/latest.zip'),
    );
  });

  it.each([
    ['./a//b', 'a/b'],
    ['sums/./SHA256SUMS', 'sums/SHA256SUMS'],
  ])('writes checksum output %s in normal form, %s', (written, normal) => {
    expect(checkPostprocessor(`type: checksum\noutput: ${written}\n`).value?.output).toBe(normal);
  });

  it.each([
    ['10m', 600],
    ['1h30m', 5400],
    ['1d', 86_400],
    [45, 45],
  ])('reads command timeout %s as %i seconds', (timeout, seconds) => {
    const value = checkPostprocessor(`type: command\ncommand: ls\ntimeout: ${timeout}\n`).value;
    expect(value?.timeout).toBe(seconds);
  });

  it('turns command env numbers and booleans into strings', () => {
    const value = checkPostprocessor(
      'type: command\ncommand: ls\nenv_vars:\n  DPI: 300\n  QUIET: false\n',
    ).value;
    expect(value?.env_vars).toEqual({ DPI: '300', QUIET: 'false' });
  });
});

describe('one pass', () => {
  it('reports every problem of a model file, each where it is written', () => {
    const result = checkModel(
      'run_id: "a b"\noutput_dir: ""\ncomand: x\npostprocess:\n  - type: zip\n',
    );
    expect(result.errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ['run_id', 1, 9],
      ['output_dir', 2, 13],
      ['comand', 3, 1],
      ['postprocess[0].type', 5, 11],
    ]);
  });
});

describe('paths with control characters', () => {
  it.each([
    ['template', 'template: "temp\\0late"\n', '"temp\\u0000late" has \\u0000 at character 5'],
    ['template', 'template: "template\\n"\n', '"template\\n" has \\u000a at character 9'],
    ['output_dir', 'output_dir: "out\\e[31m"\n', '"out\\u001b[31m" has \\u001b at character 4'],
  ])('refuses %s %j with a message, not a crash', (path, body, detail) => {
    const result = checkModel(`run_id: r1\n${body}`);
    expect(result.errors).toEqual([
      expect.objectContaining({
        path,
        line: 2,
        message: `a path cannot hold control characters; ${detail}`,
      }),
    ]);
  });

  it('refuses a NUL in a backend path, a mount and a container path', () => {
    const result = validateText(
      tree.path('backend.yml'),
      'type: docker\nimage: x\nworking_dir: "a\\0"\nvolumes: ["template:/in\\0"]\nmount_path: "/app\\0"\n',
      backendConfigSchema(ctx),
      { env: {} },
    );
    expect(result.errors.map((e) => [e.path, e.message])).toEqual([
      [
        'working_dir',
        'a path cannot hold control characters; "a\\u0000" has \\u0000 at character 2',
      ],
      [
        'volumes[0]',
        'container path: a path cannot hold control characters; "/in\\u0000" has \\u0000 at character 4',
      ],
      [
        'mount_path',
        'must be an absolute path inside the container without spaces, control characters, "," or ":", such as "/app/run"',
      ],
    ]);
  });
});
