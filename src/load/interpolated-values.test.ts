import { afterAll, describe, expect, it } from 'vitest';
import { CASE_TREE } from '../../test/cases/backend-cases.js';
import { makeTree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import { validateBackendText } from './backend-config.js';
import { modelConfigSchema } from './model-schema.js';
import { pipelineConfigSchema } from './pipeline-file.js';
import { validateText } from './validate.js';

/**
 * A value filled from the environment is the text the environment holds;
 * only a field that wants a number or a boolean reads it as one, strictly.
 */
const tree = makeTree({ ...CASE_TREE, 'template/input.json': '{}\n' });
afterAll(() => tree.remove());
const ctx = diskPathContext(tree.root);

type Env = Record<string, string>;
const backend = (yaml: string, env: Env = {}) =>
  validateBackendText(tree.path('backend.yml'), yaml, { env });
const model = (yaml: string, env: Env = {}) =>
  validateText(tree.path('model.yml'), yaml, modelConfigSchema(ctx), { env });
const postprocessor = (yaml: string, env: Env = {}) =>
  validateText(tree.path('post.yml'), yaml, postprocessorSchema(ctx), { env });
const pipeline = (yaml: string, env: Env = {}) =>
  validateText(tree.path('pipeline.yml'), yaml, pipelineConfigSchema(ctx), { env });

const validValue = (result: { errors: unknown[]; value: unknown }) => {
  expect(result.errors).toEqual([]);
  return result.value as Record<string, unknown>;
};

describe('text from the environment stays the text it was', () => {
  it.each([
    ['abc #def', 'a comment sign'],
    ['0123', 'a leading zero'],
    ['0x1F', 'a hex number'],
    ['007', 'a PIN'],
    ['true', 'a boolean word'],
    ['null', 'null'],
    ['[a, b]', 'a flow list'],
    ['{a: 1}', 'a flow mapping'],
    ['1e3', 'an exponent'],
    ['', 'nothing'],
  ])('env_vars gets %j (%s) unchanged', (text) => {
    const env = { PIN: text };
    const unquoted = validValue(backend('type: local\nenv_vars:\n  PIN: ${PIN}\n', env));
    expect(unquoted.env_vars).toEqual({ PIN: text });
    const defaulted = validValue(backend('type: local\nenv_vars:\n  PIN: ${NOPE:-${PIN}}\n', env));
    expect(defaulted.env_vars).toEqual({ PIN: text });
  });

  it('gives the README example API_TOKEN its whole value', () => {
    const value = validValue(
      backend('type: local\nenv_vars:\n  API_TOKEN: ${API_TOKEN:-}\n', { API_TOKEN: 'abc #def' }),
    );
    expect(value.env_vars).toEqual({ API_TOKEN: 'abc #def' });
  });

  it('keeps free-form config values as text', () => {
    const value = validValue(
      model('run_id: r1\nconfig:\n  nx: ${NX:-400}\n  tag: ${T}\n', { T: '07' }),
    );
    expect(value.config).toEqual({ nx: '400', tag: '07' });
  });

  it('refuses a run_id whose variable holds a comment sign, naming the variable', () => {
    const result = model('run_id: ${X}\n', { X: 'a #comment' });
    expect(result.errors).toEqual([
      expect.objectContaining({
        path: 'run_id',
        line: 1,
        message: expect.stringMatching(/letters, digits.*\(from \$\{X\}\)$/),
      }),
    ]);
  });
});

describe('fields that want a number or a boolean read the text as one', () => {
  it.each([
    ['local timeout', backend, 'type: local\ntimeout: ${T:-120}\n', {}, ['timeout'], 120],
    [
      'local timeout as a duration',
      backend,
      'type: local\ntimeout: ${T}\n',
      { T: '2h' },
      ['timeout'],
      7200,
    ],
    [
      'local stream_output',
      backend,
      'type: local\nstream_output: ${QUIET:-false}\n',
      {},
      ['stream_output'],
      false,
    ],
    [
      'local shell, quoted',
      backend,
      'type: local\nshell: "${S}"\n',
      { S: 'false' },
      ['shell'],
      false,
    ],
    ['docker cpu', backend, 'type: docker\nimage: x\ncpu: ${NCPU:-4}\n', {}, ['cpu'], 4],
    [
      'docker cpu with zeros',
      backend,
      'type: docker\nimage: x\ncpu: ${NCPU}\n',
      { NCPU: '08' },
      ['cpu'],
      8,
    ],
    ['docker gpus count', backend, 'type: docker\nimage: x\ngpus: ${G:-2}\n', {}, ['gpus'], 2],
    ['docker gpus all', backend, 'type: docker\nimage: x\ngpus: ${G:-all}\n', {}, ['gpus'], 'all'],
    [
      'docker gpu ids',
      backend,
      'type: docker\nimage: x\ngpus: ["${G:-0}", 1]\n',
      {},
      ['gpus'],
      ['0', 1],
    ],
    [
      'docker remove_container',
      backend,
      'type: docker\nimage: x\nremove_container: ${K:-false}\n',
      {},
      ['remove_container'],
      false,
    ],
    [
      'apptainer nv',
      backend,
      'type: apptainer\nimage: docker://x\nnv: ${NV:-true}\n',
      {},
      ['nv'],
      true,
    ],
    [
      'apptainer cpu',
      backend,
      'type: apptainer\nimage: docker://x\ncpu: ${N:-3}\n',
      {},
      ['cpu'],
      3,
    ],
    ['slurm nodes', backend, 'type: slurm\nnodes: ${N:-2}\n', {}, ['nodes'], 2],
    ['slurm exclusive', backend, 'type: slurm\nexclusive: ${E:-true}\n', {}, ['exclusive'], true],
    [
      'slurm container cpu',
      backend,
      'type: slurm\ncontainer:\n  type: docker\n  image: x\n  cpu: ${N:-6}\n',
      {},
      ['container', 'cpu'],
      6,
    ],
    [
      'model delete_existing',
      model,
      'run_id: r1\ndelete_existing: ${D:-true}\n',
      {},
      ['delete_existing'],
      true,
    ],
    [
      'postprocessor stop_on_error',
      postprocessor,
      'type: checksum\nstop_on_error: ${S:-true}\n',
      {},
      ['stop_on_error'],
      true,
    ],
    [
      'command timeout',
      postprocessor,
      'type: command\ncommand: "true"\ntimeout: ${T:-30}\n',
      {},
      ['timeout'],
      30,
    ],
    [
      'noop validate_outputs',
      postprocessor,
      'type: noop\nvalidate_outputs: ${V:-true}\n',
      {},
      ['validate_outputs'],
      true,
    ],
    [
      'pipeline inline model',
      pipeline,
      'model:\n  run_id: r1\n  run_id_subdir: ${S:-false}\n',
      {},
      ['model', 'run_id_subdir'],
      false,
    ],
    [
      'pipeline inline backend',
      pipeline,
      'model:\n  run_id: r1\nbackend:\n  type: docker\n  image: x\n  cpu: ${N:-5}\n',
      {},
      ['backend', 'cpu'],
      5,
    ],
    [
      'pipeline postprocess list',
      pipeline,
      'model:\n  run_id: r1\npostprocess:\n  - type: checksum\n    stop_on_error: ${S:-true}\n',
      {},
      ['postprocess', 0, 'stop_on_error'],
      true,
    ],
  ] as const)('%s', (_name, check, yaml, env, path, expected) => {
    let value: unknown = validValue(check(yaml, env as Env));
    for (const segment of path) value = (value as Record<string | number, unknown>)[segment];
    expect(value).toEqual(expected);
  });

  it.each([
    ['0x1F', 'a hex number'],
    ['1e3', 'an exponent'],
    [' 4', 'a leading space'],
    ['4 ', 'a trailing space'],
    ['four', 'a word'],
    ['', 'nothing'],
  ])('cpu refuses %j (%s), saying what it got and where from', (text) => {
    const result = backend('type: docker\nimage: x\ncpu: ${NCPU}\n', { NCPU: text });
    expect(result.errors).toEqual([
      expect.objectContaining({
        path: 'cpu',
        line: 3,
        column: 6,
        message: `must be a number, got ${text === '' ? 'an empty string' : JSON.stringify(text)} (from \${NCPU})`,
      }),
    ]);
  });

  it.each(['True', 'yes', '1', 'on'])('a boolean field refuses %j', (text) => {
    const result = backend('type: local\nstream_output: ${Q}\n', { Q: text });
    expect(result.errors[0]?.message).toBe(
      `must be true or false, got ${JSON.stringify(text)} (from \${Q})`,
    );
  });

  it('checks the bounds on the converted number', () => {
    const result = backend('type: docker\nimage: x\ncpu: ${NCPU}\n', { NCPU: '500' });
    expect(result.errors.map((e) => e.message)).toEqual([
      'must be at most 128, got 500 (from ${NCPU})',
    ]);
  });

  it('refuses a duration that is neither seconds nor a duration, naming the variable', () => {
    const result = backend('type: local\ntimeout: ${T}\n', { T: '0x3C' });
    expect(result.errors[0]?.message).toMatch(/got "0x3C" \(from \$\{T\}\)$/);
  });
});
