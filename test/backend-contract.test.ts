import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse } from 'yaml';
import type { BackendConfig as PublicBackendConfig } from '../src/api/public-types.js';
import type { BackendDefinition } from '../src/backends/contract.js';
import { backendRegistry, type RegisteredBackendConfig } from '../src/backends/registry.js';
import { validateBackendFile } from '../src/load/backend-config.js';
import { backendJsonSchema } from '../src/schema/json-schema.js';
import { configCasesOf } from './cases/backend-cases.js';

/**
 * What every backend in the registry must bring, checked over the registry
 * itself: a new backend is one folder and one registry line, and this suite
 * says what that folder has to hold.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const exampleOf = (type: string) => join(root, 'examples', 'backends', `${type}.yml`);

/** Keywords whose subschemas state rules between fields, not fields of their own. */
const RULES = new Set([
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'dependentSchemas',
  'dependentRequired',
]);

/** Every field of a JSON Schema, at any depth (nested objects, list items, union members), with its path. */
function* fields(node: unknown, at: string): Generator<[string, Record<string, unknown>]> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) yield* fields(child, at);
    return;
  }
  for (const [key, child] of Object.entries(node)) {
    if (RULES.has(key)) continue;
    if (key === 'properties' && child !== null && typeof child === 'object')
      for (const [name, field] of Object.entries(child)) {
        yield [`${at}.${name}`, field as Record<string, unknown>];
        yield* fields(field, `${at}.${name}`);
      }
    else yield* fields(child, at);
  }
}

describe.each(backendRegistry.map((backend) => [backend.type, backend] as const))(
  'the %s backend',
  (type: string, backend: BackendDefinition) => {
    it('is the definition its own folder exports', async () => {
      const path = `../src/backends/${type}/index.js`;
      const folder: Record<string, unknown> = await import(/* @vite-ignore */ path);
      expect(Object.values(folder)).toContain(backend);
    });

    it('has an example config that is valid', () => {
      const file = exampleOf(type);
      expect(existsSync(file), `${file} is missing`).toBe(true);
      const result = validateBackendFile(file, { env: { HOME: root } });
      expect(result.errors).toEqual([]);
      expect(result.value?.type).toBe(type);
    });

    it('has its own table of config cases beside it, passing and failing, all of its type', async () => {
      const cases = await configCasesOf(type);
      expect(cases.some((c) => c.error === undefined)).toBe(true);
      expect(cases.some((c) => c.error !== undefined)).toBe(true);
      for (const c of cases) {
        const value: unknown = parse(c.yaml, { uniqueKeys: false });
        expect(value, c.name).toMatchObject({ type });
      }
    });

    it('describes every field of its schema', () => {
      const all = [...fields(backendJsonSchema(type), type)];
      // Every backend has at least type, timeout and env_vars: a walk that finds fewer is broken.
      expect(all.length).toBeGreaterThanOrEqual(3);
      const missing = all
        .filter(([, field]) => typeof field.description !== 'string' || field.description === '')
        .map(([path]) => path);
      expect(missing).toEqual([]);
    });

    it('names secret fields that its schema has', () => {
      const fields = backendJsonSchema(type).properties ?? {};
      for (const path of backend.secretFields) expect(Object.keys(fields)).toContain(path[0]);
    });

    it('declares one undo handler per guard kind, each undone while what runs is stopped or after', () => {
      const kinds = backend.undo.map((handler) => handler.kind);
      expect(new Set(kinds).size).toBe(kinds.length);
      for (const handler of backend.undo) {
        expect(['stop', 'secret-file']).toContain(handler.stage);
        expect(handler.undo).toBeTypeOf('function');
      }
    });

    it('names its run handle by one of its guard kinds, which the guardian can undo', () => {
      expect(backend.undo.map((handler) => handler.kind)).toContain(backend.handle.kind);
      expect(backend.undo.find((h) => h.kind === backend.handle.kind)?.stage).toBe('stop');
    });

    it('plans a dry run of its example config', async () => {
      const result = validateBackendFile(exampleOf(type), { env: { HOME: root } });
      if (result.value === undefined) throw new Error('the example config is not valid');
      const plan = await backend.plan(
        result.value,
        { runId: 'contract', stagingDir: join(root, 'examples'), modelCommand: 'true' },
        { PATH: process.env.PATH, HOME: root },
      );
      expect(plan.lines.length).toBeGreaterThan(0);
      for (const [label, value] of plan.lines) {
        expect(label).toEqual(expect.any(String));
        expect(value).toEqual(expect.any(String));
      }
    });
  },
);

describe('the library types', () => {
  it('narrow the config of every registered backend by its type', () => {
    // The library's union is written out (its declarations must not pull in
    // the definitions): a backend missing from it fails here.
    expectTypeOf<PublicBackendConfig['type']>().toEqualTypeOf<RegisteredBackendConfig['type']>();
    expectTypeOf<PublicBackendConfig>().toEqualTypeOf<RegisteredBackendConfig>();
  });
});
