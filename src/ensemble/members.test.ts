import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { expandMembers, MAX_MEMBERS, type MemberSpec } from './members.js';

const spec = (more: Partial<MemberSpec>): MemberSpec => ({
  parameters: {},
  members: [],
  replicas: 1,
  ...more,
});

describe('expandMembers', () => {
  it('makes the product of the parameters, the last varying fastest', () => {
    const members = expandMembers(
      spec({
        parameters: { 'config.depth_m': [5, 10], 'config.pulse.amplitude_m': [0.1, 0.2, 0.3] },
      }),
    );
    expect(members.map((m) => m.values)).toEqual([
      { 'config.depth_m': 5, 'config.pulse.amplitude_m': 0.1 },
      { 'config.depth_m': 5, 'config.pulse.amplitude_m': 0.2 },
      { 'config.depth_m': 5, 'config.pulse.amplitude_m': 0.3 },
      { 'config.depth_m': 10, 'config.pulse.amplitude_m': 0.1 },
      { 'config.depth_m': 10, 'config.pulse.amplitude_m': 0.2 },
      { 'config.depth_m': 10, 'config.pulse.amplitude_m': 0.3 },
    ]);
    expect(members.map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('adds the listed members after the product, or uses them alone', () => {
    const both = expandMembers(
      spec({ parameters: { 'config.a': [1, 2] }, members: [{ 'config.a': 9, 'backend.cpu': 2 }] }),
    );
    expect(both.map((m) => m.values)).toEqual([
      { 'config.a': 1 },
      { 'config.a': 2 },
      { 'config.a': 9, 'backend.cpu': 2 },
    ]);
    expect(expandMembers(spec({ members: [{ 'config.x': 'x' }] })).map((m) => m.values)).toEqual([
      { 'config.x': 'x' },
    ]);
  });

  it('runs each member `replicas` times, side by side', () => {
    const members = expandMembers(spec({ parameters: { 'config.a': [1, 2] }, replicas: 3 }));
    expect(members.map((m) => [m.index, m.replica, m.values['config.a']])).toEqual([
      [0, 0, 1],
      [1, 1, 1],
      [2, 2, 1],
      [3, 0, 2],
      [4, 1, 2],
      [5, 2, 2],
    ]);
  });

  it('gives each member its values as overrides of the model and the backend, named by the member', () => {
    const [member] = expandMembers(
      spec({ members: [{ 'config.a': [1, 2], 'backend.mem': '4G' }] }),
    );
    expect(
      member?.overrides.map(({ target, path, value, arg }) => ({ target, path, value, arg })),
    ).toEqual([
      { target: 'model', path: ['config', 'a'], value: [1, 2], arg: 'member 0: config.a=[1,2]' },
      { target: 'backend', path: ['mem'], value: '4G', arg: 'member 0: backend.mem="4G"' },
    ]);
  });

  it('runs the model as it is, `replicas` times, with neither parameters nor members', () => {
    const members = expandMembers(spec({ replicas: 3 }));
    expect(members.map((m) => [m.index, m.replica, m.overrides.length])).toEqual([
      [0, 0, 0],
      [1, 1, 0],
      [2, 2, 0],
    ]);
  });

  it('places each override at the value the file wrote, list item or member', () => {
    const members = expandMembers(
      spec({
        parameters: { 'config.a': [1, 2] },
        members: [{ 'config.a': 9 }],
        writtenAt: (path) => ({ file: path.join(' '), line: 1, column: 1 }),
      }),
    );
    expect(members.map((m) => m.overrides[0]?.writtenAt?.file)).toEqual([
      'parameters config.a 0',
      'parameters config.a 1',
      'members 0 config.a',
    ]);
  });

  it('masks a secret value in the name it gives an override', () => {
    const [member] = expandMembers(spec({ members: [{ 'backend.env_vars.API_TOKEN': 'abc' }] }));
    expect(member?.overrides[0]?.arg).toBe('member 0: backend.env_vars.API_TOKEN=***');
    expect(member?.overrides[0]?.secret).toBe(true);
  });

  const refused: [string, Partial<MemberSpec>, RegExp][] = [
    ['a parameter with no values', { parameters: { 'config.a': [] } }, /lists no values/],
    [
      'more members than the limit, before making any',
      { parameters: { 'config.a': Array(1000).fill(0), 'config.b': Array(1000).fill(0) } },
      new RegExp(`1000000 members .* at most ${MAX_MEMBERS}`),
    ],
    ['a path --set would refuse', { parameters: { 'config.__proto__': [1] } }, /__proto__/],
    [
      'values that come to more than the limit across the members, before making any',
      { parameters: { 'config.big': ['x'.repeat(900_000)] }, replicas: 10_000 },
      /the members' values come to \d+ MiB together; at most 16 MiB/,
    ],
    ['a malformed path', { members: [{ 'config..a': 1 }] }, /an empty key after "config"/],
  ];
  for (const [name, more, message] of refused) {
    it(`refuses ${name}`, () => {
      expect(() => expandMembers(spec(more))).toThrow(UsageError);
      expect(() => expandMembers(spec(more))).toThrow(message);
    });
  }
});
