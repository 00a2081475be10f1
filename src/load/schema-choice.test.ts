import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_CASES, CASE_TREE } from '../../test/cases/backend-cases.js';
import { MODEL_CASE_TREE, MODEL_CASES } from '../../test/cases/model-cases.js';
import { POSTPROCESSOR_CASES } from '../../test/cases/postprocessor-cases.js';
import { makeTree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import { backendConfigSchema, validateBackendText } from './backend-config.js';
import { validateModelParsed, validatePostprocessorParsed } from './model-file.js';
import { modelConfigSchema } from './model-schema.js';
import { parseYaml } from './parse-yaml.js';
import { validateText } from './validate.js';

// A file is checked against the member its `type` names, built alone; these
// pin that it reads exactly as the union of every member would read it.
const tree = makeTree({ ...CASE_TREE, ...MODEL_CASE_TREE });
afterAll(() => tree.remove());
const file = () => tree.path('config.yml');
// The unions, built once: building them is what the code under test avoids.
let unions: ReturnType<typeof buildUnions> | undefined;
const whole = () => {
  unions ??= buildUnions();
  return unions;
};
function buildUnions() {
  const ctx = diskPathContext(tree.path('.'));
  return {
    backend: backendConfigSchema(ctx),
    model: modelConfigSchema(ctx),
    postprocessor: postprocessorSchema(ctx),
  };
}
const env = { TYPE: 'docker', CPUS: '4', WORD: 'many' };

/** A result without its functions, for comparing two of them. */
const shown = (result: object) => JSON.parse(JSON.stringify(result));

const unusual = [
  'type: ${TYPE}\nimage: ubuntu:22.04\ncpu: ${CPUS}\n',
  'type: ${WORD}\n',
  'type: 3\n',
  'type: [local]\n',
  'type: constructor\n',
  'type: __proto__\n',
  '- type: local\n',
  'just text\n',
  '',
  'type: local\ntimeout: ${CPUS}\nbogus: 1\n',
];

describe('a backend config is checked against its own type only', () => {
  it.each([...BACKEND_CASES.map((c) => c.yaml), ...unusual])('%j', (yaml) => {
    const picked = validateBackendText(file(), yaml, { env });
    const union = validateText(file(), yaml, whole().backend, { env });
    expect(shown({ ...picked, warnings: [] })).toEqual(shown(union));
  });

  it.each(['image: x\ncpu: lots\n', 'type: local\n'])(
    'takes the type of --backend-type: %j',
    (yaml) => {
      const picked = validateBackendText(file(), yaml, { env, backendType: 'docker' });
      const union = validateText(file(), yaml, whole().backend, {
        env,
        expected: { key: 'type', value: 'docker', source: '--backend-type' },
      });
      expect(shown({ ...picked, warnings: [] })).toEqual(shown(union));
      expect(picked.errors).not.toEqual([]);
    },
  );
});

const lists = [
  'postprocess: []\n',
  'postprocess:\n  - type: checksum\n  - type: archive\n    format: zip\n',
  'postprocess:\n  - type: checksum\n  - type: chcksum\n',
  'postprocess:\n  - type: ${TYPE}\n',
  'postprocess:\n  - checksum\n',
  'postprocess: checksum\n',
  'postprocess:\n',
  'postprocess: {type: checksum}\n',
  'postprocess:\n  - {}\n',
];

describe('a model file builds only the postprocessors it lists', () => {
  const models = [
    ...MODEL_CASES.map((c) => c.yaml),
    ...lists.map((list) => `run_id: r1\n${list}`),
    ...POSTPROCESSOR_CASES.map(
      (c) =>
        `run_id: r1\npostprocess:\n${c.yaml.replace(/^(?=.)/gm, '    ').replace(/^ {4}/, '  - ')}`,
    ),
    ...unusual,
  ];
  it.each(models)('%j', (yaml) => {
    const picked = validateModelParsed(file(), 'config.yml', parseYaml(yaml), env);
    const union = validateText('config.yml', yaml, whole().model, { env });
    expect(shown(picked)).toEqual(shown(union));
  });
});

describe('a postprocessor config is checked against its own type only', () => {
  it.each([...POSTPROCESSOR_CASES.map((c) => c.yaml), ...unusual])('%j', (yaml) => {
    const picked = validatePostprocessorParsed(file(), 'config.yml', parseYaml(yaml), env);
    const union = validateText('config.yml', yaml, whole().postprocessor, { env });
    expect(shown(picked)).toEqual(shown(union));
  });
});
