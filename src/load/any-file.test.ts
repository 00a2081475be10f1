import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../test/helpers/tree.js';
import { backendTypes } from '../backends/registry.js';
import { postprocessorTypes } from '../postprocess/registry.js';
import { validateAnyFile } from './any-file.js';
import type { FileKind } from './file-kind.js';

const tree = makeTree({
  'model.yml': 'run_id: r1\ncommand: echo hi\n',
  'pipeline.yml': 'model: model.yml\nbackend:\n  type: local\npostprocess:\n  - type: checksum\n',
  'inline-pipeline.yml': 'model:\n  run_id: r2\nbackend: backend.yml\n',
  'ensemble.yml': 'model: model.yml\nparameters:\n  config.a: [1, 2]\n',
  'replicas.yml': 'model:\n  run_id: r3\nrun_id: r3-{{ member.index }}\nreplicas: 3\n',
  'checksum.yml': 'type: checksum\n',
  'backend.yml': 'type: docker\nimage: busybox\n',
  'both.yml': 'run_id: r1\ntype: local\n',
  'odd-type.yml': 'type: kubernetes\n',
  'typo-backend.yml': 'type: loacl\nimage: x\n',
  'typo-postprocessor.yml': '# archive the run\ntype: Archive\nformat: zip\n',
  'expanded-type.yml': 'type: ${TYPE}\n',
  'number-type.yml': 'type: 5\n',
  'no-sign.yml': 'command: echo hi\n',
  'broken.yml': 'run_id: [\n',
});
afterAll(() => tree.remove());

const check = (name: string, kind?: FileKind) =>
  validateAnyFile(tree.path(name), { env: {}, display: name, ...(kind ? { kind } : {}) });

describe('telling file kinds apart by content', () => {
  it.each([
    ['model.yml', 'model'],
    ['pipeline.yml', 'pipeline'],
    ['inline-pipeline.yml', 'pipeline'],
    ['ensemble.yml', 'ensemble'],
    ['replicas.yml', 'ensemble'],
    ['checksum.yml', 'postprocessor'],
    ['backend.yml', 'backend'],
  ])('checks %s as a valid %s', (name, kind) => {
    const result = check(name);
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ status: 'valid', kind });
  });

  it.each([
    ['both.yml', 'it has `run_id:` (a model) and `type: local` (a backend)'],
    [
      'no-sign.yml',
      'it has none of `model:` (a pipeline; with `parameters:` or `members:`, an ensemble), `run_id:` (a model) or `type:`',
    ],
  ])('asks for --kind when %s could be several kinds or none', (name, why) => {
    const result = check(name);
    expect(result.status).toBe('invalid');
    expect(result.errors).toEqual([
      expect.objectContaining({ line: 1, column: 1, message: expect.stringContaining(why) }),
    ]);
    expect(result.errors[0]?.message).toMatch(
      /pass --kind model\|pipeline\|ensemble\|postprocessor\|backend$/,
    );
  });

  it.each([
    ['typo-backend.yml', 'backend', 1, 'type "loacl" is not a backend type. Did you mean "local"?'],
    [
      'typo-postprocessor.yml',
      'postprocessor',
      2,
      'type "Archive" is not a postprocessor type. Did you mean "archive"?',
    ],
  ])('checks %s, whose type is misspelt, as a %s, at the value', (name, kind, line, says) => {
    const result = check(name);
    expect(result.kind).toBe(kind);
    expect(result.errors).toEqual([
      expect.objectContaining({ line, column: 7, message: expect.stringContaining(says) }),
    ]);
  });

  it.each([
    ['odd-type.yml', 'type "kubernetes" is neither a postprocessor type (noop, '],
    ['number-type.yml', 'type must be a name: a postprocessor type (noop, '],
    ['expanded-type.yml', 'pass --kind postprocessor or --kind backend'],
  ])('points at the type of %s, which names no kind', (name, says) => {
    const result = check(name);
    expect(result).toMatchObject({ status: 'invalid', kind: undefined });
    expect(result.errors).toEqual([
      expect.objectContaining({ line: 1, column: 7, message: expect.stringContaining(says) }),
    ]);
    // --kind cannot fix a type that is no type's name.
    if (!name.startsWith('expanded')) expect(result.errors[0]?.message).not.toContain('--kind');
  });

  it('checks a file as the kind given, whatever it holds', () => {
    const result = check('both.yml', 'model');
    expect(result.kind).toBe('model');
    expect(result.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('unknown key "type"'),
    ]);
  });

  it('reports a file that does not parse as it is, without guessing a kind', () => {
    const result = check('broken.yml');
    expect(result).toMatchObject({ status: 'invalid', kind: undefined });
    expect(result.errors[0]?.message).toMatch(/^YAML syntax/);
  });

  it('keeps backend and postprocessor type names apart, so one type names one kind', () => {
    expect(backendTypes.filter((type) => postprocessorTypes.includes(type))).toEqual([]);
  });
});
