import { describe, expect, it } from 'vitest';
import { type LayerData, mergeLayers } from './merge.js';

describe('mergeLayers', () => {
  const cases: [string, LayerData[], Record<string, unknown>][] = [
    ['one layer is itself', [{ data: { a: 1, b: { c: 2 } } }], { a: 1, b: { c: 2 } }],
    [
      'maps merge deeply',
      [{ data: { env: { A: '1', B: '2' }, cpu: 1 } }, { data: { env: { B: '3', C: '4' } } }],
      { env: { A: '1', B: '3', C: '4' }, cpu: 1 },
    ],
    [
      'lists replace',
      [{ data: { modules: ['gcc', 'openmpi'] } }, { data: { modules: ['intel'] } }],
      { modules: ['intel'] },
    ],
    [
      'null removes a key',
      [{ data: { image: 'x', cpu: 2 } }, { data: { image: null } }],
      { cpu: 2 },
    ],
    [
      'null removes a key at any depth; with nothing below it, it stays for the schema to refuse',
      [{ data: { env: { A: '1' } } }, { data: { env: { A: null, B: null } } }],
      { env: { B: null } },
    ],
    [
      'a map replaces a scalar, with its nulls as written',
      [{ data: { x: 1 } }, { data: { x: { a: 1, b: null } } }],
      { x: { a: 1, b: null } },
    ],
    ['a null in the only layer stays', [{ data: { timeout: null } }], { timeout: null }],
    [
      'a scalar replaces a map',
      [{ data: { x: { a: 1 } } }, { data: { x: 'flat' } }],
      { x: 'flat' },
    ],
    [
      'a list keeps its nulls and maps as written',
      [{ data: { l: [null, { a: null }] } }],
      { l: [null, { a: null }] },
    ],
    [
      'a layer mounted under a key merges there',
      [{ data: { cpu: 1, memory: '1g' }, at: ['backend'] }, { data: { backend: { cpu: 4 } } }],
      { backend: { cpu: 4, memory: '1g' } },
    ],
    [
      'later layers win, in order',
      [{ data: { a: 1 } }, { data: { a: 2 } }, { data: { a: 3 } }],
      { a: 3 },
    ],
  ];
  for (const [name, layers, want] of cases) {
    it(name, () => {
      expect(mergeLayers(layers).data).toEqual(want);
    });
  }

  it('knows which layer wrote each value, and which removed one', () => {
    const merged = mergeLayers([
      { data: { env: { A: '1', B: '2' }, modules: ['a', 'b'], image: 'x' } },
      { data: { env: { B: '3' }, modules: ['c'] } },
      { data: { image: null } },
    ]);
    expect(merged.layerOf(['env', 'A'])).toBe(0);
    expect(merged.layerOf(['env', 'B'])).toBe(1);
    expect(merged.layerOf(['env'])).toBe(0);
    expect(merged.layerOf(['modules', 0])).toBe(1);
    expect(merged.layerOf(['modules', 1])).toBe(1);
    expect(merged.layerOf(['image'])).toBe(2);
    expect(merged.layerOf([])).toBeUndefined();
  });

  it('forgets what earlier layers wrote under a value that was replaced', () => {
    const merged = mergeLayers([{ data: { x: { deep: { a: 1 } } } }, { data: { x: 'flat' } }]);
    expect(merged.layerOf(['x', 'deep', 'a'])).toBe(1);
  });

  it('never changes the layers it merges', () => {
    const base = { env: { A: '1' }, list: [{ a: 1 }] };
    const child = { env: { B: '2' } };
    const merged = mergeLayers([{ data: base }, { data: child }]);
    (merged.data.env as Record<string, string>).C = '3';
    (merged.data.list as { a: number }[])[0] = { a: 9 };
    expect(base).toEqual({ env: { A: '1' }, list: [{ a: 1 }] });
    expect(child).toEqual({ env: { B: '2' } });
  });

  describe('set', () => {
    const base = () => ({
      run_id: 'wave',
      config: { depth_m: 5 },
      postprocess: [{ type: 'archive', format: 'tar.gz' }],
    });
    const cases: [string, (string | number)[], unknown, Record<string, unknown>][] = [
      ['sets a key', ['run_id'], 'deep', { ...base(), run_id: 'deep' }],
      ['sets a key in a map', ['config', 'depth_m'], 10, { ...base(), config: { depth_m: 10 } }],
      [
        'makes the maps on the way',
        ['env_vars', 'A', 'B'],
        1,
        { ...base(), env_vars: { A: { B: 1 } } },
      ],
      [
        'sets a list item by number',
        ['postprocess', 0, 'format'],
        'zip',
        { ...base(), postprocess: [{ type: 'archive', format: 'zip' }] },
      ],
      [
        'appends with the next number',
        ['postprocess', 1],
        { type: 'checksum' },
        { ...base(), postprocess: [{ type: 'archive', format: 'tar.gz' }, { type: 'checksum' }] },
      ],
      [
        'removes a key with null',
        ['config'],
        null,
        { run_id: 'wave', postprocess: base().postprocess },
      ],
      ['removes a list item with null', ['postprocess', 0], null, { ...base(), postprocess: [] }],
      [
        'a number is a key in a map',
        ['config', 0],
        'x',
        { ...base(), config: { depth_m: 5, 0: 'x' } },
      ],
    ];
    for (const [name, path, value, want] of cases) {
      it(name, () => {
        const merged = mergeLayers([{ data: base() }]);
        expect(merged.set(path, value, 1)).toBeUndefined();
        expect(merged.data).toEqual(want);
        expect(merged.layerOf(path)).toBe(1);
      });
    }

    const refused: [(string | number)[], RegExp][] = [
      [['run_id', 'x'], /^run_id is "wave", not a mapping or a list, so it has no "x"$/],
      [['postprocess', 'format'], /^postprocess is a list: address its items by number/],
      [
        ['postprocess', 5, 'format'],
        /^postprocess has 1 item, numbered from 0; there is no item 5$/,
      ],
      [['postprocess', 1, 'format'], /there is no item 1/],
    ];
    for (const [path, message] of refused) {
      it(`says why ${path.join('.')} cannot be set`, () => {
        expect(mergeLayers([{ data: base() }]).set(path, 1, 1)).toMatch(message);
      });
    }

    it('leaves the other values to the layers that wrote them', () => {
      const merged = mergeLayers([{ data: base() }]);
      merged.set(['postprocess', 0, 'format'], 'zip', 1);
      expect(merged.layerOf(['postprocess', 0, 'type'])).toBe(0);
      expect(merged.layerOf(['config', 'depth_m'])).toBe(0);
    });
  });

  it('keeps a __proto__ key as a key, never as a prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": {"x": 1}}}');
    const merged = mergeLayers([{ data: { a: {} } }, { data: hostile }]);
    expect(Object.hasOwn(merged.data, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged.data)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.data.a)).toBe(Object.prototype);
  });
});
