import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSchemas, schemaFolderFiles } from '../src/schema/json-schema.js';
import { REPO_ROOT } from './helpers/cli.js';

const SCHEMAS = join(REPO_ROOT, 'schemas');

describe('committed schemas', () => {
  const expected = schemaFolderFiles();

  it('are exactly the schemas modelrun emits (regenerate with `npm run schemas`)', () => {
    expect(readdirSync(SCHEMAS).sort()).toEqual([...expected.keys()].sort());
  });

  it.each([...expected.keys()])('%s is up to date (regenerate with `npm run schemas`)', (name) => {
    expect(readFileSync(join(SCHEMAS, name), 'utf8')).toBe(expected.get(name));
  });

  it.each([...allSchemas().entries()].filter(([name]) => name !== 'backend.schema.json'))(
    'every property of %s has a description and an example',
    (_name, schema) => {
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        expect(property.description, `${key} description`).toEqual(expect.any(String));
        expect(property.examples, `${key} examples`).toEqual(expect.any(Array));
      }
    },
  );
});
