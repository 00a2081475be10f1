import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type * as z from 'zod';
import { diskPathContext } from '../src/config/path-context.js';
import { modelConfigSchema } from '../src/load/model-schema.js';
import { pipelineConfigSchema } from '../src/load/pipeline-file.js';
import { validateText } from '../src/load/validate.js';
import { postprocessorSchema, postprocessorTypes } from '../src/postprocess/registry.js';
import {
  combinedPostprocessorJsonSchema,
  modelJsonSchema,
  pipelineJsonSchema,
  postprocessorJsonSchema,
} from '../src/schema/json-schema.js';
import { type ConfigCase, MODEL_CASE_TREE, MODEL_CASES } from './cases/model-cases.js';
import { PIPELINE_CASE_TREE, PIPELINE_CASES } from './cases/pipeline-cases.js';
import { POSTPROCESSOR_CASES } from './cases/postprocessor-cases.js';
import { strictAjv } from './helpers/ajv.js';
import { makeTree } from './helpers/tree.js';

/**
 * The emitted model, postprocessor and pipeline JSON Schemas must give the
 * same verdict as validation on every case, except for the rules a JSON
 * Schema cannot express. Each case marked `schemaCannot` names why; for those
 * the schema must accept what modelrun rejects, which shows that the
 * exception is real.
 */
const tree = makeTree({ ...MODEL_CASE_TREE, ...PIPELINE_CASE_TREE });
afterAll(() => tree.remove());

const ajv = strictAjv();
const modelSchema = ajv.compile(modelJsonSchema());
const pipelineSchema = ajv.compile(pipelineJsonSchema());
const combinedPostprocessor = ajv.compile(combinedPostprocessorJsonSchema());
const perType = new Map(
  postprocessorTypes.map((type) => [type, ajv.compile(postprocessorJsonSchema(type))]),
);

const ctx = diskPathContext(tree.root);
const validVerdict =
  <T>(schema: z.ZodType<T>) =>
  (yaml: string) =>
    validateText(tree.path('case.yml'), yaml, schema, { env: {} }).status === 'valid';
const modelValid = validVerdict(modelConfigSchema(ctx));
const postprocessorValid = validVerdict(postprocessorSchema(ctx));
const pipelineValid = validVerdict(pipelineConfigSchema(ctx));

/** What the JSON Schema should say, given what validation says. */
const schemaVerdict = (testCase: ConfigCase, valid: boolean) =>
  testCase.schemaCannot === undefined ? valid : true;

/** A postprocessor config as the one entry of a model file's postprocess list. */
function inModelFile(yaml: string): string {
  const lines = yaml.trimEnd().split('\n');
  const entry = lines.map((line, i) => `${i === 0 ? '  - ' : '    '}${line}`).join('\n');
  return `run_id: r1\npostprocess:\n${entry}\n`;
}

describe('model JSON Schema and validate agree', () => {
  it.each(MODEL_CASES)('$name', (testCase) => {
    const valid = modelValid(testCase.yaml);
    expect(valid).toBe(testCase.error === undefined);
    expect(modelSchema(parse(testCase.yaml)), JSON.stringify(modelSchema.errors)).toBe(
      schemaVerdict(testCase, valid),
    );
  });
});

describe('postprocessor JSON Schemas and validate agree', () => {
  it.each(POSTPROCESSOR_CASES)('$name', (testCase) => {
    const valid = postprocessorValid(testCase.yaml);
    expect(valid).toBe(testCase.error === undefined);

    const data = parse(testCase.yaml) as { type?: unknown };
    const verdict = schemaVerdict(testCase, valid);
    expect(combinedPostprocessor(data), JSON.stringify(combinedPostprocessor.errors)).toBe(verdict);
    const typed = perType.get(String(data.type));
    if (typed !== undefined) expect(typed(data), JSON.stringify(typed.errors)).toBe(verdict);
  });

  it.each(POSTPROCESSOR_CASES)('$name, in a model file', (testCase) => {
    const yaml = inModelFile(testCase.yaml);
    const valid = modelValid(yaml);
    expect(valid).toBe(testCase.error === undefined);
    expect(modelSchema(parse(yaml)), JSON.stringify(modelSchema.errors)).toBe(
      schemaVerdict(testCase, valid),
    );
  });
});

describe('pipeline JSON Schema and validate agree', () => {
  it.each(PIPELINE_CASES)('$name', (testCase) => {
    const valid = pipelineValid(testCase.yaml);
    expect(valid).toBe(testCase.error === undefined);
    expect(pipelineSchema(parse(testCase.yaml)), JSON.stringify(pipelineSchema.errors)).toBe(
      schemaVerdict(testCase, valid),
    );
  });
});

describe('exceptions', () => {
  it('lists the rules a JSON Schema cannot express', () => {
    const exceptions = new Set(
      [...MODEL_CASES, ...POSTPROCESSOR_CASES, ...PIPELINE_CASES].flatMap((c) =>
        c.schemaCannot === undefined ? [] : [c.schemaCannot],
      ),
    );
    expect([...exceptions].sort()).toEqual([
      'a JSON Schema cannot check that a path exists',
      'a JSON Schema cannot compare one field with another',
      'a JSON Schema cannot count the bytes the system takes to start a program',
      'a JSON Schema cannot count the steps between two date-times',
      'a JSON Schema pattern cannot bound the seconds a duration string adds up to',
    ]);
  });
});
