import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { makeTree } from '../../test/helpers/tree.js';
import { strictObject } from '../config/fields.js';
import { MAX_CONFIG_BYTES } from './read-source.js';
import { validateFile, validateText } from './validate.js';

const schema = strictObject({
  name: z.string().optional(),
  count: z.number().int().min(1).optional(),
  ratio: z.number().optional(),
  flag: z.boolean().optional(),
  items: z.array(z.string().regex(/^[a-z]+$/, { error: 'lowercase letters only' })).optional(),
  nested: strictObject({ depth: z.number().optional() }).optional(),
});

const check = (text: string, env: NodeJS.ProcessEnv = {}) =>
  validateText('cfg.yml', text, schema, { env });

describe('positions', () => {
  it('points at the offending value with file, line, column and dot path', () => {
    const result = check('name: x\nitems:\n  - ok\n  - NOT\n');
    expect(result.errors).toEqual([
      { file: 'cfg.yml', line: 4, column: 5, path: 'items[1]', message: 'lowercase letters only' },
    ]);
  });

  it('points at an unknown key itself, even when nested', () => {
    const result = check('nested:\n  depht: 2\n');
    expect(result.errors).toEqual([
      expect.objectContaining({
        line: 2,
        column: 3,
        path: 'nested.depht',
        message: 'unknown key "depht"; did you mean "depth"?',
      }),
    ]);
  });

  it('reports malformed YAML at the position the parser gives', () => {
    const result = check('name: x\nitems: [a, b\ncount: 2\n');
    expect(result.status).toBe('invalid');
    // The parser notices the unclosed list where the next key starts.
    expect(result.errors[0]).toMatchObject({
      line: 3,
      column: 1,
      path: '',
      message:
        'YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
    });
  });

  it('reports a duplicate key', () => {
    expect(check('name: a\nname: b\n').errors[0]).toMatchObject({
      line: 2,
      column: 1,
      message: 'YAML syntax: Map keys must be unique',
    });
  });

  it.each([
    ['', 'the file is empty'],
    ['- a\n- b\n', 'the file does not hold a mapping'],
    ['just text\n', 'the file does not hold a mapping'],
  ])('requires a mapping: %j', (text, message) => {
    expect(check(text).errors[0]?.message).toMatch(message);
  });
});

describe('interpolation', () => {
  it('fills values from the environment, and unquoted ones keep their YAML type', () => {
    const result = check(
      'name: "${WHO}"\ncount: ${N:-3}\nratio: ${R}\nflag: ${F}\nitems: ["${WHO}"]\n',
      {
        WHO: 'ada',
        R: '0.5',
        F: 'true',
      },
    );
    expect(result.errors).toEqual([]);
    expect(result.value).toEqual({ name: 'ada', count: 3, ratio: 0.5, flag: true, items: ['ada'] });
  });

  it('keeps a quoted value as text', () => {
    expect(check("name: '${N}'\n", { N: '7' }).value).toEqual({ name: '7' });
    expect(check('count: "${N}"\n', { N: '7' }).errors[0]?.message).toBe(
      'must be a number, got "7"',
    );
  });

  it('does not interpolate keys', () => {
    expect(check('${KEY}: 1\n', { KEY: 'name' }).errors[0]?.path).toBe('["${KEY}"]');
  });

  it('names an unset variable and the line it is on', () => {
    expect(check('name: ok\nitems:\n  - ${NOPE}\n').errors).toEqual([
      {
        file: 'cfg.yml',
        line: 3,
        column: 5,
        path: 'items[0]',
        message:
          'environment variable NOPE is not set; set it, or give a default with ${NOPE:-value}',
      },
    ]);
  });

  it('keeps $${ as a literal ${', () => {
    expect(check('name: "$${HOME}"\n').value).toEqual({ name: '${HOME}' });
  });
});

describe('JSON files', () => {
  it('are accepted, with positions', () => {
    const result = validateText('cfg.json', '{\n  "name": "x",\n  "count": 0\n}\n', schema, {
      env: {},
    });
    expect(result.errors).toEqual([
      {
        file: 'cfg.json',
        line: 3,
        column: 12,
        path: 'count',
        message: 'must be at least 1, got 0',
      },
    ]);
  });
});

describe('hostile files', () => {
  const tree = makeTree();
  afterAll(() => tree.remove());

  it('refuses an alias bomb quickly instead of expanding it', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const name of 'bcdefghi') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const started = performance.now();
    const result = check(`${levels.join('\n')}\n`);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.errors[0]?.message).toMatch(/looks like an alias bomb/);
  });

  it('refuses a file over 1 MiB without reading it', () => {
    const file = tree.write('big.yml', `name: "${'x'.repeat(MAX_CONFIG_BYTES)}"\n`);
    const result = validateFile(file, schema, { env: {} });
    expect(result.status).toBe('invalid');
    expect(result.errors[0]?.message).toMatch(
      /config files are limited to 1048576 bytes \(1 MiB\)/,
    );
  });

  it('reports a missing file as missing, not invalid', () => {
    const result = validateFile(tree.path('nope.yml'), schema, { env: {} });
    expect(result.status).toBe('missing');
    expect(result.errors[0]?.message).toMatch(/does not exist/);
  });
});
