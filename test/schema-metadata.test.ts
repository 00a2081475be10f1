import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/package-info.js';
import { allSchemas } from '../src/schema/json-schema.js';
import { strictAjv } from './helpers/ajv.js';

/** Every object in a schema, with where it is. */
function* nodes(node: unknown, at = '#'): Generator<[string, Record<string, unknown>]> {
  if (node === null || typeof node !== 'object') return;
  if (!Array.isArray(node)) yield [at, node as Record<string, unknown>];
  for (const [key, child] of Object.entries(node)) yield* nodes(child, `${at}/${key}`);
}

describe('schema metadata', () => {
  it.each([...allSchemas()])(
    '%s has the absolute, versioned $id it is published under',
    (name, schema) => {
      expect(schema.$id).toBe(`https://cdn.jsdelivr.net/npm/modelrun@${VERSION}/schemas/${name}`);
    },
  );

  it.each([...allSchemas()])('%s proposes no $schema key or schema path', (_name, schema) => {
    for (const [at, node] of nodes(schema)) {
      const properties = node.properties as Record<string, unknown> | undefined;
      expect(Object.keys(properties ?? {}), at).not.toContain('$schema');
    }
    const { $id: _id, ...body } = schema;
    expect(JSON.stringify(body)).not.toMatch(/\.schema\.json/);
  });

  it.each([...allSchemas()])('%s refers to nothing outside itself', (_name, schema) => {
    for (const [at, node] of nodes(schema))
      if (typeof node.$ref === 'string') expect(node.$ref, at).toMatch(/^#\//);
  });

  it.each([...allSchemas()])('%s gives every pattern a message for editors', (_name, schema) => {
    for (const [at, node] of nodes(schema))
      if (typeof node.pattern === 'string')
        expect(node.patternErrorMessage, at).toEqual(expect.any(String));
  });

  it.each([...allSchemas()])(
    '%s compiles in ajv with strict: true and nothing but the editor keywords declared',
    (_name, schema) => {
      // strict: true throws on a union type, an undeclared required key or keyword.
      expect(() => strictAjv().compile(schema)).not.toThrow();
    },
  );
});
