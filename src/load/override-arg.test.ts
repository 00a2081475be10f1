import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { type OverrideFlag, parseOverride, parsePath } from './override-arg.js';

describe('parseOverride', () => {
  const cases: [OverrideFlag, string, { target: string; path: unknown[]; value: unknown }][] = [
    ['--set', 'config.depth_m=10', { target: 'model', path: ['config', 'depth_m'], value: 10 }],
    ['--set', 'run_id=wave-deep', { target: 'model', path: ['run_id'], value: 'wave-deep' }],
    ['--set', 'run_id="10"', { target: 'model', path: ['run_id'], value: '10' }],
    ['--set', 'backend.cpu=4', { target: 'backend', path: ['cpu'], value: 4 }],
    [
      '--set',
      'backend.env_vars.OMP_NUM_THREADS=8',
      { target: 'backend', path: ['env_vars', 'OMP_NUM_THREADS'], value: 8 },
    ],
    [
      '--set',
      'postprocess.0.format=zip',
      { target: 'model', path: ['postprocess', 0, 'format'], value: 'zip' },
    ],
    ['--set', 'config.list=[1, 2]', { target: 'model', path: ['config', 'list'], value: [1, 2] }],
    ['--set', 'config.map={a: 1}', { target: 'model', path: ['config', 'map'], value: { a: 1 } }],
    ['--set', 'backend.timeout=null', { target: 'backend', path: ['timeout'], value: null }],
    ['--set', 'config.flag=true', { target: 'model', path: ['config', 'flag'], value: true }],
    ['--set', 'config.empty=', { target: 'model', path: ['config', 'empty'], value: '' }],
    ['--set', 'config."a.b"=1', { target: 'model', path: ['config', 'a.b'], value: 1 }],
    ['--set', "config.'x=y'=2", { target: 'model', path: ['config', 'x=y'], value: 2 }],
    ['--set', 'config."0"=zero', { target: 'model', path: ['config', '0'], value: 'zero' }],
    ['--set', 'config.eq=a=b', { target: 'model', path: ['config', 'eq'], value: 'a=b' }],
    ['--set-string', 'run_id=10', { target: 'model', path: ['run_id'], value: '10' }],
    ['--set-string', 'config.x=null', { target: 'model', path: ['config', 'x'], value: 'null' }],
    ['--set', 'config.x=".inf"', { target: 'model', path: ['config', 'x'], value: '.inf' }],
    ['--set-string', 'config.x=.nan', { target: 'model', path: ['config', 'x'], value: '.nan' }],
  ];
  for (const [flag, text, want] of cases) {
    it(`reads ${flag} ${text}`, () => {
      const override = parseOverride(flag, text);
      expect({ target: override.target, path: override.path, value: override.value }).toEqual(want);
      expect(override.arg).toBe(`${flag} ${text}`);
    });
  }

  const refused: [string, RegExp][] = [
    ['depth', /no "=" after the path/],
    ['=10', /the path is empty/],
    ['config..x=1', /an empty key after "config"/],
    ['config.=1', /an empty key after "config"/],
    ['config."a.b=1', /not closed/],
    ['config.x=[1, 2', /not valid YAML/],
    ['config.x={a: 1', /not valid YAML/],
    ['backend.=1', /an empty key after "backend"/],
    ['backend=x', /names a field, such as backend.memory/],
    ['config.color=#ff0000', /YAML reads this value as empty \(a # starts a comment/],
    ['run_id=...', /YAML reads this value as empty/],
    ['config.x=&a [*a]', /an alias refers to the anchor it sits in/],
    ['config.x=!!binary aGk=', /not valid YAML: .*tag/],
    ['config.__proto__.x=1', /a key cannot be __proto__/],
    ['extends=base.yml', /bases are named in the file/],
    ['backend.extends=base.yml', /bases are named in the file/],
    [`config.x=${'['.repeat(200)}${']'.repeat(200)}`, /not valid YAML: .*nest/],
    // Recorded as null and rendered as Infinity: a value JSON cannot hold.
    ['config.x=.inf', /: the value is infinity \(\.inf, .*\), which no value can be/],
    ['config.x=-.Inf', /: the value is minus infinity \(-\.inf, .*\), which no value can be/],
    ['config.x=1e400', /: the value is infinity \(\.inf, or a number too large to hold/],
    ['config.x=[1, {a: .nan}]', /: the value's \[1\]\.a is NaN \(\.nan, not a number\)/],
  ];
  for (const [text, message] of refused) {
    it(`refuses --set ${text} as a usage error that names it`, () => {
      let thrown: unknown;
      try {
        parseOverride('--set', text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UsageError);
      expect((thrown as UsageError).message).toMatch(message);
      // A long argument is shown cut short.
      expect((thrown as UsageError).message.startsWith(`--set ${text.slice(0, 100)}`)).toBe(true);
      expect((thrown as UsageError).hint).toMatch(/PATH=VALUE|quote|extends:/);
    });
  }

  it('masks the value of an override that holds a secret-named key, anywhere in it', () => {
    for (const text of [
      'backend.env_vars.API_TOKEN=abc',
      'backend.env_vars={API_TOKEN: abc}',
      'config.db={user: me, auth: {password: abc}}',
    ]) {
      const override = parseOverride('--set', text);
      expect(override.secret).toBe(true);
      expect(override.arg).not.toContain('abc');
      expect(override.arg).toMatch(/=\*\*\*$/);
    }
    expect(parseOverride('--set', 'config.depth_m=10').secret).toBe(false);
  });

  it('masks an argument that names a secret in every message, a malformed one too', () => {
    for (const text of [
      'config."API_TOKEN=hunter2hunter2',
      'config..TOKEN=hunter2hunter2',
      'config.TOKEN=[hunter2hunter2',
    ]) {
      expect(() => parseOverride('--set', text)).toThrow(UsageError);
      try {
        parseOverride('--set', text);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
        expect((error as Error).message).toContain('=***');
      }
    }
  });

  it('cuts a long argument short wherever it is shown, saying how long it was', () => {
    const override = parseOverride('--set', `config.x=${'a'.repeat(50_000)}`);
    expect(override.arg.length).toBeLessThan(250);
    expect(override.arg).toMatch(/… \(50009 characters\)$/);
    expect(override.value).toBe('a'.repeat(50_000));
  });

  it('refuses an alias bomb in a value', () => {
    const bomb = `{a: &a [x, x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]}`;
    expect(() => parseOverride('--set', `config.x=${bomb}`)).toThrow(UsageError);
  });
});

describe('a path of many keys', () => {
  it('is refused past the deepest a config nests, at once and without the whole of it', () => {
    const path = `config.${Array(50_000).fill('a').join('.')}`;
    const started = performance.now();
    expect(() => parseOverride('--set', `${path}=1`)).toThrow(/a path of 50001 keys; at most 64/);
    expect(() => parsePath(path, path)).toThrow(UsageError);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
