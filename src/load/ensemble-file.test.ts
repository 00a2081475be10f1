import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { validateEnsembleMemberParsed, validateEnsembleParsed } from './ensemble-file.js';
import { parseOverride } from './override-arg.js';
import { parseYaml } from './parse-yaml.js';

/** An ensemble file checked whole, and as each member's run reads it. */

const tree = treeForEachTest({ 'template/': '' });

const FILE = `model:
  run_id: wave
  output_dir: runs
  command: "true"
  template: template
  config: {depth_m: 5}
backend:
  type: local
  timeout: 1h
parameters:
  config.depth_m: [5, 10]
members:
  - {backend.timeout: 2h}
`;

function both(text: string, sets: string[]) {
  const file = tree.path('ensemble.yml');
  const parsed = parseYaml(text);
  const layering = { overrides: sets.map((set) => parseOverride('--set', set)) };
  return {
    whole: validateEnsembleParsed(file, 'ensemble.yml', parsed, {}, layering),
    member: validateEnsembleMemberParsed(file, 'ensemble.yml', parsed, {}, layering),
  };
}

describe("an ensemble file as a member's run reads it", () => {
  it.each<[string, string[], number]>([
    ['with no values over it', [], 0],
    ['with values of the model and of the backend', ['config.depth_m=7', 'backend.timeout=3h'], 0],
    ['with a value the backend refuses', ['backend.timeout=soon'], 1],
    ['with a value the model refuses', ['run_id_subdir=maybe'], 1],
  ])('has the model, backend, errors and warnings of the whole file: %s', (_, sets, errors) => {
    const { whole, member } = both(FILE, sets);
    expect(whole.errors).toHaveLength(errors);
    expect(member.value?.model).toEqual(whole.value?.model);
    expect(member.value?.backend).toEqual(whole.value?.backend);
    expect(member.errors).toEqual(whole.errors);
    expect(member.warnings).toEqual(whole.warnings);
  });

  it('leaves its lists of members to the check of the whole file', () => {
    const { whole, member } = both(
      FILE.replace('config.depth_m: [5, 10]', 'run_id: [a, b]\n  config.depth_m: []'),
      [],
    );
    expect(whole.errors.map((error) => error.path)).toEqual([
      'parameters.run_id',
      'parameters["config.depth_m"]',
    ]);
    expect(member.errors).toEqual([]);
  });
});

describe("an ensemble's values", () => {
  const INF = 'infinity (.inf, or a number too large to hold, such as 1e400)';
  const MINUS = 'minus infinity (-.inf, or a number too large to hold, such as -1e400)';
  const NAN = 'NaN (.nan, not a number)';
  // On the old code each was taken: run ids such as xInfinity, templates rendering Infinity, null on record.
  it.each([
    ['config.depth_m: [5, .inf]', 'parameters["config.depth_m"][1]', 11, INF],
    ['config.depth_m: [-.inf]', 'parameters["config.depth_m"][0]', 11, MINUS],
    ['config.depth_m: [{a: [1, .NaN]}]', 'parameters["config.depth_m"][0].a[1]', 11, NAN],
    ['- {config.depth_m: .nan}', 'members[0]["config.depth_m"]', 13, NAN],
    ['- {config.depth_m: 1e400}', 'members[0]["config.depth_m"]', 13, INF],
  ])('refuses a number JSON cannot hold, %s, at its place', (line, path, at, what) => {
    const text = line.startsWith('-')
      ? FILE.replace('- {backend.timeout: 2h}', line)
      : FILE.replace('config.depth_m: [5, 10]', line);
    const { whole } = both(text, []);
    expect(whole.errors.map((e) => [e.path, e.line])).toEqual([[path, at]]);
    expect(whole.errors[0]?.message).toBe(
      `is ${what}, which no value can be: modelrun records values as JSON, which has no infinity or NaN; write a finite number, or quote the value to give it as text`,
    );
  });

  it('takes .inf and .nan quoted, as text', () => {
    const { whole } = both(FILE.replace('[5, 10]', '[".inf", ".nan"]'), []);
    expect(whole.errors).toEqual([]);
    expect(whole.value?.parameters).toEqual({ 'config.depth_m': ['.inf', '.nan'] });
  });
});

describe('ensemble_id', () => {
  // On the old code each was told to use only letters, digits, ".", "_" and "-", which it does.
  it.each([
    [
      '..',
      'cannot be "." or "..": it names a folder, and these name the folder it would be in and the one above',
    ],
    [
      '.ModelRun',
      'cannot be ".modelrun" (in any case), the name of the folder where modelrun keeps its records and locks',
    ],
    ['a/b', 'must use only letters, digits, ".", "_" and "-", such as "depth-study"'],
  ])('refuses %s, saying why', (id, message) => {
    const { whole } = both(`${FILE}ensemble_id: "${id}"\n`, []);
    expect(whole.errors.map((e) => [e.path, e.message])).toEqual([['ensemble_id', message]]);
  });
});
