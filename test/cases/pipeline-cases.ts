import { type ConfigCase, DURATION_BOUNDS } from './model-cases.js';

/**
 * Pipeline file rules, as passing or failing cases. The model and backend
 * inside a pipeline follow their own files' rules, which their own tables
 * cover; these cases show that a pipeline holds them inline or by path.
 */

/** The folder every case's pipeline file sits in. */
export const PIPELINE_CASE_TREE = {
  'model.yml': 'run_id: r1\ncommand: echo hi\n',
  'backends/local.yml': 'type: local\n',
};

export const PIPELINE_CASES: ConfigCase[] = [
  // model
  { name: 'model as a path', yaml: 'model: model.yml\n' },
  { name: 'model as a ./ path', yaml: 'model: ./model.yml\n' },
  { name: 'model inline', yaml: 'model:\n  run_id: r1\n  command: echo hi\n' },
  {
    name: 'model inline breaking a model rule',
    yaml: 'model:\n  run_id: "a b"\n',
    error: {
      path: 'model.run_id',
      message: 'must use only letters, digits, ".", "_" and "-", such as "hindcast-2024-01"',
    },
  },
  {
    name: 'model inline with an unknown key',
    yaml: 'model:\n  run_id: r1\n  comand: echo hi\n',
    error: { path: 'model.comand', message: 'unknown key "comand"; did you mean "command"?' },
  },

  // backend
  { name: 'backend as a path', yaml: 'model: model.yml\nbackend: backends/local.yml\n' },
  { name: 'backend inline', yaml: 'model: model.yml\nbackend:\n  type: local\n  timeout: 30m\n' },
  {
    name: 'backend inline breaking a backend rule',
    yaml: 'model: model.yml\nbackend:\n  type: local\n  timeout: 30\n',
    error: {
      path: 'backend.timeout',
      message: 'must be from 60 to 31536000 seconds (1m to 365d); got 30',
    },
  },
  {
    name: 'backend inline with a duration too long',
    yaml: 'model: model.yml\nbackend:\n  type: local\n  timeout: 400d\n',
    error: {
      path: 'backend.timeout',
      message: 'must be from 60 to 31536000 seconds (1m to 365d); got 34560000',
    },
    schemaCannot: DURATION_BOUNDS,
  },
  {
    name: 'backend inline docker without an image',
    yaml: 'model: model.yml\nbackend:\n  type: docker\n',
    error: { path: 'backend', message: 'either image or dockerfile must be provided' },
  },

  // postprocess
  {
    name: 'postprocess list',
    yaml: 'model: model.yml\npostprocess:\n  - type: checksum\n  - type: archive\n    format: zip\n',
  },
  { name: 'postprocess empty, to run none', yaml: 'model: model.yml\npostprocess: []\n' },
  {
    name: 'postprocess not a list',
    yaml: 'model: model.yml\npostprocess: {type: noop}\n',
    error: { path: 'postprocess', message: 'must be a list, got a mapping' },
  },
  {
    name: 'postprocess unknown type',
    yaml: 'model: model.yml\npostprocess:\n  - type: zip\n',
    error: {
      path: 'postprocess[0].type',
      message:
        'type "zip" is not a postprocessor type. Known types: noop, archive, checksum, command',
    },
  },
  {
    name: "postprocess breaking a postprocessor's rule",
    yaml: 'model: model.yml\npostprocess:\n  - type: archive\n    format: rar\n',
    error: { path: 'postprocess[0].format', message: 'must be "tar.gz" or "zip"; got "rar"' },
  },

  // unknown keys
  {
    name: 'JSON Schema reference key',
    yaml: '$schema: ../schemas/pipeline.schema.json\nmodel: model.yml\n',
  },
  {
    name: 'unknown key near a known one',
    yaml: 'model: model.yml\nbackends: backends/local.yml\n',
    error: { path: 'backends', message: 'unknown key "backends"; did you mean "backend"?' },
  },
  {
    name: 'unknown key far from any',
    yaml: 'model: model.yml\ncolourful: true\n',
    error: {
      path: 'colourful',
      message: 'unknown key "colourful"; allowed keys are extends, model, backend, postprocess',
    },
  },
];
