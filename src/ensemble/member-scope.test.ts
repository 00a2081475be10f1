import { describe, expect, it } from 'vitest';
import { memberNames, memberScope } from './member-scope.js';
import { expandMembers, type MemberSpec } from './members.js';

const members = (more: Partial<MemberSpec>) =>
  expandMembers({ parameters: {}, members: [], replicas: 1, ...more });

/** The short names of the members' paths, as path → name. */
const shortNames = (more: Partial<MemberSpec>) =>
  Object.fromEntries(memberNames(members(more)).short);

/** Each member's scope, with the names of all the members. */
const scopes = (more: Partial<MemberSpec>) => {
  const all = members(more);
  const names = memberNames(all);
  return all.map((member) => memberScope(member, names));
};

describe('memberNames', () => {
  it.each<[string, Partial<MemberSpec>, Record<string, string>]>([
    [
      'gives each path its last key when no other path ends in it',
      { parameters: { 'config.depth_m': [5], 'config.pulse.amplitude_m': [0.1] } },
      { 'config.depth_m': 'depth_m', 'config.pulse.amplitude_m': 'amplitude_m' },
    ],
    [
      'names a backend path by its last key',
      { parameters: { 'backend.memory': ['4G'] } },
      { 'backend.memory': 'memory' },
    ],
    [
      'names the paths of listed members as those of the product',
      { parameters: { 'config.a': [1] }, members: [{ 'config.b.c': 2 }] },
      { 'config.a': 'a', 'config.b.c': 'c' },
    ],
    [
      'names a path written with a quoted key by that key',
      { parameters: { 'config."grid size"': [4] } },
      { 'config."grid size"': 'grid size' },
    ],
    [
      'gives a path ending in a list index no short name',
      { parameters: { 'config.levels.0': [1], 'config.depth_m': [2] } },
      { 'config.depth_m': 'depth_m' },
    ],
    [
      'gives no short name that would hide index, replica or parameters',
      {
        parameters: {
          'config.index': [1],
          'config.replica': [2],
          'backend.parameters': [3],
          'config.seed': [4],
        },
      },
      { 'config.seed': 'seed' },
    ],
    [
      "gives no short name that would hide a path's first key",
      { parameters: { 'config.x.config': [1], 'config.x.backend': [2], 'backend.cpus': [3] } },
      { 'backend.cpus': 'cpus' },
    ],
    [
      'gives no short name that would hide a first key only another member sets',
      { parameters: { 'config.backend': [1] }, members: [{ 'backend.cpus': 2 }] },
      { 'backend.cpus': 'cpus' },
    ],
    [
      'gives a short name that is a first key no path has',
      { parameters: { 'config.backend': [1] } },
      { 'config.backend': 'backend' },
    ],
    ['gives nothing for an ensemble of the model alone', { replicas: 3 }, {}],
  ])('%s', (_, spec, short) => {
    expect(shortNames(spec)).toEqual(short);
  });

  it('keeps, by key, the paths that end in index, replica or parameters, which member names itself', () => {
    const { hidden } = memberNames(
      members({
        parameters: { 'config.index': [1], 'config.a.index': [2], 'config.seed': [3] },
        members: [{ 'backend.env_vars.replica': 4 }],
      }),
    );
    expect(Object.fromEntries(hidden)).toEqual({
      index: ['config.index', 'config.a.index'],
      replica: ['backend.env_vars.replica'],
    });
  });

  it.each<[string, Partial<MemberSpec>, Record<string, string[]>, Record<string, string>]>([
    [
      'two model paths',
      { parameters: { 'config.ocean.depth': [1, 2], 'config.lake.depth': [3], 'config.t': [4] } },
      { depth: ['config.ocean.depth', 'config.lake.depth'] },
      { 'config.t': 't' },
    ],
    [
      'a model path and a backend path',
      { parameters: { 'config.memory': [1], 'backend.memory': ['4G'] } },
      { memory: ['config.memory', 'backend.memory'] },
      {},
    ],
    [
      'paths in different listed members',
      { members: [{ 'config.ocean.depth': 1 }, { 'config.lake.depth': 2 }] },
      { depth: ['config.ocean.depth', 'config.lake.depth'] },
      {},
    ],
    [
      'three paths',
      { parameters: { 'config.a.n': [1], 'config.b.n': [2], 'config.c.n': [3] } },
      { n: ['config.a.n', 'config.b.n', 'config.c.n'] },
      {},
    ],
    [
      'paths that would also hide a key of member',
      { parameters: { 'config.a.index': [1], 'config.b.index': [2] } },
      { index: ['config.a.index', 'config.b.index'] },
      {},
    ],
  ])('shares a last key between %s, naming none of them by it', (_, spec, shared, short) => {
    const names = memberNames(members(spec));
    expect(Object.fromEntries(names.shared)).toEqual(shared);
    expect(Object.fromEntries(names.short)).toEqual(short);
  });

  it('counts a path once however many members set it', () => {
    const names = memberNames(
      members({ parameters: { 'config.depth': [1, 2, 3] }, members: [{ 'config.depth': 4 }] }),
    );
    expect(Object.fromEntries(names.short)).toEqual({ 'config.depth': 'depth' });
    expect(names.shared.size).toBe(0);
  });
});

describe('memberScope', () => {
  it('holds the index and replica of each member', () => {
    expect(
      scopes({ parameters: { 'config.a': [1, 2] }, replicas: 2 }).map((s) => [s.index, s.replica]),
    ).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
  });

  it('holds values by path as written, nested, and by short name', () => {
    const [scope] = scopes({
      parameters: { 'config.depth_m': [5], 'config.pulse.amplitude_m': [0.1] },
    });
    expect(scope).toEqual({
      index: 0,
      replica: 0,
      parameters: { 'config.depth_m': 5, 'config.pulse.amplitude_m': 0.1 },
      config: { depth_m: 5, pulse: { amplitude_m: 0.1 } },
      depth_m: 5,
      amplitude_m: 0.1,
    });
  });

  it('nests backend paths under backend', () => {
    const [scope] = scopes({ members: [{ 'backend.memory': '4G', 'backend.slurm.qos': 'long' }] });
    expect(scope?.backend).toEqual({ memory: '4G', slurm: { qos: 'long' } });
    expect(scope?.parameters).toEqual({ 'backend.memory': '4G', 'backend.slurm.qos': 'long' });
    expect(scope?.memory).toBe('4G');
    expect(scope?.qos).toBe('long');
  });

  it('nests a list index path by its index, with no short name', () => {
    const [scope] = scopes({ parameters: { 'config.levels.0': [7] } });
    expect(scope?.config).toEqual({ levels: { 0: 7 } });
    expect(scope?.parameters).toEqual({ 'config.levels.0': 7 });
    expect(Object.keys(scope ?? {}).sort()).toEqual(['config', 'index', 'parameters', 'replica']);
  });

  it('keys parameters by the path as the file wrote it, quotes included', () => {
    const [scope] = scopes({ parameters: { 'config."grid.size"': [4], 'backend.cpus': [2] } });
    expect(scope?.parameters).toEqual({ 'config."grid.size"': 4, 'backend.cpus': 2 });
    expect(scope?.config).toEqual({ 'grid.size': 4 });
  });

  it('names shared paths by their whole path only', () => {
    const [scope] = scopes({
      parameters: { 'config.ocean.depth': [1], 'config.lake.depth': [2] },
    });
    expect(scope).not.toHaveProperty('depth');
    expect(scope?.config).toEqual({ ocean: { depth: 1 }, lake: { depth: 2 } });
  });

  it('never lets a short name replace index, replica, parameters or a first key', () => {
    const [scope] = scopes({
      members: [{ 'config.x.index': 9, 'config.y.replica': 8, 'config.z.config': 7 }],
    });
    expect(scope?.index).toBe(0);
    expect(scope?.replica).toBe(0);
    expect(scope?.config).toEqual({ x: { index: 9 }, y: { replica: 8 }, z: { config: 7 } });
  });

  it.each<[string, unknown]>([
    ['a list', [1, 2, 3]],
    ['a mapping', { nx: 4, ny: [5, 6] }],
    ['null', null],
    ['an empty string', ''],
    ['false', false],
  ])('keeps %s as it is, in every place', (_, value) => {
    const [scope] = scopes({ parameters: { 'config.grid': [value] } });
    expect(scope?.parameters['config.grid']).toEqual(value);
    expect(scope?.config).toEqual({ grid: value });
    expect(scope?.grid).toEqual(value);
  });

  it('gives each member its own values', () => {
    expect(
      scopes({ parameters: { 'config.a': [1, 2], 'backend.b': ['x', 'y'] } }).map((s) => [
        s.a,
        s.b,
        s.config,
        s.backend,
      ]),
    ).toEqual([
      [1, 'x', { a: 1 }, { b: 'x' }],
      [1, 'y', { a: 1 }, { b: 'y' }],
      [2, 'x', { a: 2 }, { b: 'x' }],
      [2, 'y', { a: 2 }, { b: 'y' }],
    ]);
  });

  // A mapping one path sets, and a key in it another path sets: the values
  // are shared by every member the product makes with them.
  it('changes no value when a path goes into a mapping another path sets', () => {
    const all = members({
      parameters: { 'config.pulse': [{ amp: 1 }], 'config.pulse.width': [2, 3] },
    });
    const names = memberNames(all);
    const [first, second] = all.map((member) => memberScope(member, names));
    expect(first?.config).toEqual({ pulse: { amp: 1, width: 2 } });
    expect(second?.config).toEqual({ pulse: { amp: 1, width: 3 } });
    expect(first?.parameters['config.pulse']).toEqual({ amp: 1 });
    expect(all.map((m) => m.values['config.pulse'])).toEqual([{ amp: 1 }, { amp: 1 }]);
    expect(all[0]?.overrides[0]?.value).toEqual({ amp: 1 });
  });

  it('changes no list value when a path goes into it by index', () => {
    const all = members({ members: [{ 'config.levels': [1, 2], 'config.levels.0': 9 }] });
    const [scope] = all.map((member) => memberScope(member, memberNames(all)));
    expect(scope?.config).toEqual({ levels: [9, 2] });
    expect(all[0]?.values['config.levels']).toEqual([1, 2]);
  });

  it('holds keys named like prototype keys as its own, reaching no prototype', () => {
    const [scope] = scopes({ parameters: { 'config.constructor': [1], 'config.toString': ['t'] } });
    expect(Object.hasOwn(scope ?? {}, 'constructor')).toBe(true);
    expect(scope?.constructor).toBe(1);
    expect(scope?.toString).toBe('t');
    expect(scope?.config).toEqual({ constructor: 1, toString: 't' });
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });
});
