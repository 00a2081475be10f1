import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { backendTypes } from '../src/backends/registry.js';
import { validateBackendText } from '../src/load/backend-config.js';
import { backendJsonSchema, combinedBackendJsonSchema } from '../src/schema/json-schema.js';
import { BACKEND_CASES, CASE_TREE } from './cases/backend-cases.js';
import { strictAjv } from './helpers/ajv.js';
import { makeTree } from './helpers/tree.js';

/**
 * The emitted JSON Schemas must give the same verdict as `validate` on every
 * case, except for the rules a JSON Schema cannot express. Each case marked
 * `schemaCannot` names why; for those the schema must accept what modelrun
 * rejects, which shows that the exception is real.
 */
const tree = makeTree(CASE_TREE);
afterAll(() => tree.remove());

const ajv = strictAjv();
const combined = ajv.compile(combinedBackendJsonSchema());
const perType = new Map(backendTypes.map((type) => [type, ajv.compile(backendJsonSchema(type))]));

describe('JSON Schema and validate agree', () => {
  it.each(BACKEND_CASES)('$name', (testCase) => {
    const zodValid =
      validateBackendText(tree.path('backend.yml'), testCase.yaml, { env: {} }).status === 'valid';
    expect(zodValid).toBe(testCase.error === undefined);

    const data = parse(testCase.yaml) as { type?: string };
    const schemaVerdict = testCase.schemaCannot === undefined ? zodValid : true;
    expect(combined(data), JSON.stringify(combined.errors)).toBe(schemaVerdict);
    const typed = perType.get(String(data.type));
    if (typed !== undefined) expect(typed(data), JSON.stringify(typed.errors)).toBe(schemaVerdict);
  });

  it('lists the rules a JSON Schema cannot express', () => {
    const exceptions = new Set(
      BACKEND_CASES.flatMap((c) => (c.schemaCannot === undefined ? [] : [c.schemaCannot])),
    );
    expect([...exceptions].sort()).toEqual([
      'a JSON Schema cannot check that a path exists',
      'a JSON Schema cannot compare the values of two fields',
      'a JSON Schema cannot count the bytes the system takes to start a program',
      'a JSON Schema cannot know the environment a file is read in',
      'a JSON Schema cannot pick the last of several --export options, the one sbatch takes',
      'a JSON Schema cannot tell a local image path from a remote reference with another scheme',
      'a JSON Schema pattern cannot bound the bytes a size string adds up to',
      'a JSON Schema pattern cannot bound the seconds a duration string adds up to',
      'a JSON Schema pattern cannot tell absolute paths from relative ones portably',
    ]);
  });
});
