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
