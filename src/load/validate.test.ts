import { afterAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { makeTree } from '../../test/helpers/tree.js';
import { strictObject } from '../config/fields.js';
import { parseYaml } from './parse-yaml.js';
import { MAX_CONFIG_BYTES } from './read-source.js';
import { validateFile, validateParsed, validateText } from './validate.js';

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

  it('reports a duplicate key, and where the first one is', () => {
    expect(check('name: a\nname: b\n').errors[0]).toMatchObject({
      line: 2,
      column: 1,
      message: 'key "name" appears twice in this mapping (first on line 1); keep one',
    });
    // As keys of one object, 1 and "1" are the same key.
    expect(check('nested:\n  1: a\n  "1": b\n').errors[0]).toMatchObject({
      line: 3,
      column: 3,
      message: 'key "1" appears twice in this mapping (first on line 2); keep one',
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
  it('fills values from the environment, reading them as numbers or booleans only where the schema wants one', () => {
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

  it('gives a text field the text the variable holds, quoted or not', () => {
    for (const text of ['7', '007', '0x1F', 'abc #def', 'true', '1e3', '[a]', '- a']) {
      expect(check('name: ${N}\n', { N: text }).value).toEqual({ name: text });
      expect(check("name: '${N}'\n", { N: text }).value).toEqual({ name: text });
      expect(check('items:\n  - "${N}"\n  - ${N}\n', { N: text }).data?.items).toEqual([
        text,
        text,
      ]);
    }
  });

  it('reads a quoted value as a number where the schema wants one', () => {
    expect(check('count: "${N}"\n', { N: '7' }).value).toEqual({ count: 7 });
    expect(check('nested:\n  depth: ${D}\n', { D: '-2.5' }).value).toEqual({
      nested: { depth: -2.5 },
    });
  });

  it('refuses what is not plainly a number, saying where it came from', () => {
    expect(check('count: ${N}\n', { N: '0x1F' }).errors[0]).toMatchObject({
      line: 1,
      column: 8,
      path: 'count',
      message: 'must be a number, got "0x1F" (from ${N})',
    });
  });

  it('takes a nested default', () => {
    expect(check('name: ${A:-${B:-b}}\n').value).toEqual({ name: 'b' });
    expect(check('count: ${A:-${B}}\n', { B: '3' }).value).toEqual({ count: 3 });
    expect(check('name: ${A:-${B}}\n').errors[0]?.message).toBe(
      'environment variable B is not set; set it, or give a default with ${B:-value}',
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

  it('gives the same value each time one parsed file is checked, as for the members of an ensemble', () => {
    const parsed = parseYaml('name: "$${HOME} ${WHO}"\ncount: ${N}\n');
    const env = { HOME: '/home/ada', WHO: 'ada', N: '3' };
    for (let i = 0; i < 3; i++) {
      const result = validateParsed('cfg.yml', parsed, schema, { env });
      expect(result.value).toEqual({ name: '${HOME} ada', count: 3 });
    }
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

  it.each([
    ['name: !include /etc/passwd\n', 'YAML tag !include is not supported'],
    ['name: !!binary aGVsbG8=\n', 'YAML tag !!binary is not supported'],
    ['name: !!timestamp 2001-12-14\n', 'YAML tag !!timestamp is not supported'],
    ['nested: !env {depth: 1}\n', 'YAML tag !env is not supported'],
    ['!secret name: x\n', 'YAML tag !secret is not supported'],
    ['count: !!int twelve\n', 'the value does not fit its YAML tag !!int; remove the tag'],
  ])('refuses a tag modelrun does not read: %j', (text, message) => {
    const result = check(text);
    expect(result.status).toBe('invalid');
    expect(result.errors).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining(message) }),
    ]);
  });

  it('reads the core tags, which only restate a type', () => {
    expect(check('name: !!str 0123\ncount: !!int "12"\nflag: !!bool true\n').value).toEqual({
      name: '0123',
      count: 12,
      flag: true,
    });
    expect(check('name: ! 12\n').value).toEqual({ name: '12' });
  });

  it.each([
    ['10,000 levels of [', `name: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`],
    ['150 levels of [', `name: ${'['.repeat(150)}${']'.repeat(150)}\n`],
    ['150 levels of mappings', `name: ${'{a: '.repeat(150)}1${'}'.repeat(150)}\n`],
  ])('refuses %s as too deep', (_name, text) => {
    expect(check(text).errors[0]?.message).toBe(
      'the file nests lists or mappings more than 100 levels deep; a config file needs only a few',
    );
  });

  it('checks 40,000 unknown keys quickly and lists the first 20', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: ${i}\n`).join('');
    const started = performance.now();
    const result = check(`name: x\n${keys}`);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.errors).toHaveLength(21);
    expect(result.errors[19]).toMatchObject({ line: 21, path: 'k19' });
    expect(result.errors[20]).toMatchObject({
      line: 22,
      path: 'k20',
      message: '39980 more unknown keys from here on, not listed one by one',
    });
  }, 120_000);

  it('checks a mapping of 40,000 keys for repeats quickly', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `  k${i}: ${i}\n`).join('');
    const started = performance.now();
    const result = check(`nested:\n${keys}  k7: again\n`);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.errors[0]).toMatchObject({
      line: 40_002,
      message: 'key "k7" appears twice in this mapping (first on line 9); keep one',
    });
  }, 120_000);

  it.each([
    ['ratio: 1e400\n', 'must be a number, got infinity (a number too large to hold)'],
    ['ratio: -.inf\n', 'must be a number, got minus infinity (a number too large to hold)'],
  ])('names an absurd number plainly: %j', (text, message) => {
    expect(check(text).errors.map((e) => e.message)).toEqual([message]);
  });

  it('reports a huge whole number once, with the bound zod adds only when nothing tighter applies', () => {
    expect(check('count: 18446744073709551616\n').errors.map((e) => e.message)).toEqual([
      'must be at most 9007199254740991, got 18446744073709552000',
    ]);
  });

  it.each([
    ['name: *x\n', 1, 7, 'alias *x is not defined; an alias repeats a value marked with &x'],
    ['name: x\n? [a]\n: 1\n', 2, 3, 'a key must be plain text, not a list, mapping or alias'],
    ['nested: {? {a: 1} : 2}\n', 1, 12, 'a key must be plain text'],
    [
      'name: x\n---\nflag: true\n',
      2,
      1,
      'the file holds more than one YAML document (a "---" line after content); a config file holds one',
    ],
    ['nested: {"__proto__": {depth: 1}}\n', 1, 10, 'key "__proto__" is not allowed'],
    ['__proto__: hello\n', 1, 1, 'key "__proto__" is not allowed'],
  ])('says plainly what is wrong with %j', (text, line, column, message) => {
    const result = check(text);
    expect(result.status).toBe('invalid');
    expect(result.errors).toEqual([
      expect.objectContaining({ line, column, message: expect.stringContaining(message) }),
    ]);
  });

  it('prints no raw warning for a key that is a list', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      check('name: x\n? [a]\n: 1\n');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps "constructor" and "prototype" as ordinary keys', () => {
    const map = strictObject({ vars: z.record(z.string(), z.string()) });
    const result = validateText('cfg.yml', 'vars: {constructor: a, prototype: b}\n', map, {
      env: {},
    });
    expect(result.value).toEqual({ vars: { constructor: 'a', prototype: 'b' } });
  });

  it('reports a missing file as missing, not invalid', () => {
    const result = validateFile(tree.path('nope.yml'), schema, { env: {} });
    expect(result.status).toBe('missing');
    expect(result.errors[0]?.message).toMatch(/does not exist/);
  });
});

describe('an empty path', () => {
  it('is reported as empty, as a usage mistake, not as the current folder', () => {
    const result = validateFile(process.cwd(), schema, { env: {}, display: '' });
    expect(result.status).toBe('missing');
    expect(result.errors.map((e) => e.message)).toEqual([
      'the path is empty; give the path of a YAML or JSON config file',
    ]);
  });
});
