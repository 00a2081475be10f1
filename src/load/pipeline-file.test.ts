import { afterAll, describe, expect, it } from 'vitest';
import { PIPELINE_CASE_TREE, PIPELINE_CASES } from '../../test/cases/pipeline-cases.js';
import { describeRules } from '../../test/helpers/rules.js';
import { makeTree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { pipelineConfigSchema, validatePipelineFile } from './pipeline-file.js';
import { validateText } from './validate.js';

const tree = makeTree(PIPELINE_CASE_TREE);
afterAll(() => tree.remove());

const schema = pipelineConfigSchema(diskPathContext(tree.root));
const check = (yaml: string) => validateText(tree.path('pipeline.yml'), yaml, schema, { env: {} });

describeRules('pipeline file rules', PIPELINE_CASES, check);

describe('parsed pipeline values', () => {
  it("makes the model and backend paths absolute, against the pipeline file's folder", () => {
    const file = tree.write(
      'pipelines/nightly.yml',
      'model: ../model.yml\nbackend: ../backends/local.yml\n',
    );
    const result = validatePipelineFile(file, {});
    expect(result.errors).toEqual([]);
    expect(result.value).toEqual({
      model: tree.path('model.yml'),
      backend: tree.path('backends/local.yml'),
    });
  });

  it("reads an inline model and backend as their own files would be read, paths against the pipeline's folder", () => {
    const value = check(
      'model:\n  run_id: r1\n  output_dir: runs\nbackend:\n  type: local\n  timeout: 30m\n',
    ).value;
    expect(value?.model).toMatchObject({ run_id: 'r1', output_dir: tree.path('runs') });
    expect(value?.backend).toMatchObject({ type: 'local', timeout: 1800 });
  });

  it("leaves postprocess out when not given, so the model file's own run, and keeps an empty list", () => {
    expect(check('model: model.yml\n').value?.postprocess).toBeUndefined();
    expect(check('model: model.yml\npostprocess: []\n').value?.postprocess).toEqual([]);
  });
});

describe('a model or backend of neither shape', () => {
  it.each([
    [
      'model: [1]\n',
      'model: must be the path of a model file, or the model written inline as a mapping; got a list',
    ],
    [
      'model: 5\n',
      'model: must be the path of a model file, or the model written inline as a mapping; got 5',
    ],
    [
      'model: /dev/zero\n',
      'model: "/dev/zero" is a character device, not a regular file; give the path of a regular file',
    ],
  ])('%j says what the value must be', (yaml, message) => {
    expect(check(yaml).errors.map((e) => `${e.path}: ${e.message}`)).toEqual([message]);
  });
});
