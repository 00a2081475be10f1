import type { BackendCase } from './backend-cases.js';

/**
 * Every model file rule, as a passing or failing case. The rules test
 * validates each one; the schema agreement test runs each one through ajv on
 * the emitted JSON Schema as well.
 */

/** A case of any config file: the same shape as a backend case. */
export type ConfigCase = BackendCase;

/** The folder every case's model file sits in. */
export const MODEL_CASE_TREE = {
  'template/input.json': '{}\n',
  'notes.txt': 'a file, not a folder',
};

export const PATH_EXISTS = 'a JSON Schema cannot check that a path exists';
export const DURATION_BOUNDS =
  'a JSON Schema pattern cannot bound the seconds a duration string adds up to';
const COMPARE_FIELDS = 'a JSON Schema cannot compare one field with another';
const COUNT_STEPS = 'a JSON Schema cannot count the steps between two date-times';
const EXEC_BYTES = 'a JSON Schema cannot count the bytes the system takes to start a program';
const ONE_ARG = /over the 131072 bytes \(128 KiB, MAX_ARG_STRLEN\) the system allows one/;

const model = (body: string) => `run_id: r1\n${body}`;
const period = (start: string, end: string, interval: string) =>
  model(`period:\n  start: "${start}"\n  end: "${end}"\n  interval: ${interval}\n`);
const DAY = ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'] as const;

const isoMessage = (input: string) =>
  `must be an ISO-8601 date-time such as "2024-01-01T00:00:00Z"; got ${JSON.stringify(input)}`;
const RUN_ID_MESSAGE =
  'must use only letters, digits, ".", "_" and "-", such as "hindcast-2024-01"';

export const MODEL_CASES: ConfigCase[] = [
  // run_id
  { name: 'the smallest model file', yaml: 'run_id: r1\n' },
  { name: 'run_id of letters, digits, ".", "_" and "-"', yaml: 'run_id: Hindcast_2024.01-a\n' },
  { name: 'run_id of three dots', yaml: 'run_id: "..."\n' },
  {
    name: 'missing run_id',
    yaml: 'command: echo hi\n',
    error: { path: 'run_id', message: 'is required: name this run, such as "hindcast-2024-01"' },
  },
  ...['a b', 'a/b', '', 'ünïcode'].map(
    (id): ConfigCase => ({
      name: `run_id ${JSON.stringify(id)}`,
      yaml: `run_id: "${id}"\n`,
      error: { path: 'run_id', message: RUN_ID_MESSAGE },
    }),
  ),
  {
    name: 'run_id a number',
    yaml: 'run_id: 12\n',
    error: { path: 'run_id', message: 'must be text, got 12' },
  },

  // output_dir
  { name: 'output_dir relative, not there yet', yaml: model('output_dir: runs/today\n') },
  { name: 'output_dir absolute', yaml: model('output_dir: /srv/simulations\n') },
  { name: 'output_dir in the home folder', yaml: model('output_dir: ~/simulations\n') },
  {
    name: 'output_dir empty',
    yaml: model('output_dir: ""\n'),
    error: { path: 'output_dir', message: 'a path cannot be empty' },
  },
  {
    name: 'output_dir not text',
    yaml: model('output_dir: 3\n'),
    error: { path: 'output_dir', message: 'must be text, got 3' },
  },

  // run_id_subdir and delete_existing
  {
    name: 'run_id_subdir and delete_existing',
    yaml: model('run_id_subdir: false\ndelete_existing: true\n'),
  },
  {
    // YAML 1.2 reads `no` as text, not as false.
    name: 'run_id_subdir no',
    yaml: model('run_id_subdir: no\n'),
    error: { path: 'run_id_subdir', message: 'must be true or false, got "no"' },
  },
  {
    name: 'delete_existing 1',
    yaml: model('delete_existing: 1\n'),
    error: { path: 'delete_existing', message: 'must be true or false, got 1' },
  },

  // period date-times
  { name: 'period in UTC', yaml: period(...DAY, '1h') },
  {
    name: 'period with an offset',
    yaml: period('2024-01-01T00:00:00+02:00', '2024-01-02T00:00:00-05:30', '1h'),
  },
  {
    name: 'period without an offset',
    yaml: period('2024-01-01T00:00:00', '2024-01-02T00:00', '1h'),
  },
  {
    name: 'period with fractions of a second',
    yaml: period('2024-01-01T00:00:00.250Z', '2024-01-01T06:00:00.250Z', '15m'),
  },
  ...[
    ['a date without a time', '2024-01-01'],
    ['a space instead of T', '2024-01-01 00:00:00Z'],
    ['an offset without a colon', '2024-01-01T00:00:00+0200'],
    ['a day that does not exist', '2024-02-30T00:00:00Z'],
    ['a lowercase t and z', '2024-01-01t00:00:00z'],
  ].map(
    ([what, start = '']): ConfigCase => ({
      name: `period start with ${what}`,
      yaml: period(start, DAY[1], '1h'),
      error: { path: 'period.start', message: isoMessage(start) },
    }),
  ),
  {
    name: 'period end malformed',
    yaml: period(DAY[0], 'tomorrow', '1h'),
    error: { path: 'period.end', message: isoMessage('tomorrow') },
  },
  {
    name: 'period end before start',
    yaml: period(DAY[1], DAY[0], '1h'),
    error: { path: 'period.end', message: 'must come after start (2024-01-02T00:00:00Z)' },
    schemaCannot: COMPARE_FIELDS,
  },
  {
    name: 'period end equal to start',
    yaml: period(DAY[0], DAY[0], '1h'),
    error: { path: 'period.end', message: 'must come after start (2024-01-01T00:00:00Z)' },
    schemaCannot: COMPARE_FIELDS,
  },
  {
    name: 'period end equal to start in another offset',
    yaml: period('2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00Z', '1h'),
    error: { path: 'period.end', message: 'must come after start (2024-01-01T02:00:00+02:00)' },
    schemaCannot: COMPARE_FIELDS,
  },
  {
    name: 'period not a mapping',
    yaml: model('period: tomorrow\n'),
    error: { path: 'period', message: 'must be a mapping, got "tomorrow"' },
  },

  // period interval
  ...['15m', '1h30m', '45s', '1d', '1d2h3m4s'].map(
    (interval): ConfigCase => ({ name: `interval ${interval}`, yaml: period(...DAY, interval) }),
  ),
  ...['90', '1w', '1.5h', ' 1h', 'h'].map(
    (interval): ConfigCase => ({
      name: `interval ${JSON.stringify(interval)}`,
      yaml: period(...DAY, JSON.stringify(interval)),
      error: {
        path: 'period.interval',
        message: `must be a duration such as "1h", "15m" or "1h30m"; got ${JSON.stringify(interval)}`,
      },
    }),
  ),
  {
    name: 'interval a number',
    yaml: period(...DAY, '90'),
    error: { path: 'period.interval', message: 'must be text, got 90' },
  },
  {
    name: 'interval missing',
    yaml: model(`period:\n  start: "${DAY[0]}"\n  end: "${DAY[1]}"\n`),
    error: { path: 'period.interval', message: 'is required' },
  },
  {
    name: 'period of exactly the most steps allowed',
    // 999,999 seconds after the start, every second: 1,000,000 steps.
    yaml: period(DAY[0], '2024-01-12T13:46:39Z', '1s'),
  },
  {
    name: 'period of one step too many',
    yaml: period(DAY[0], '2024-01-12T13:46:40Z', '1s'),
    error: {
      path: 'period.interval',
      message: 'cuts the period into 1000001 steps; at most 1000000 are allowed',
    },
    schemaCannot: COUNT_STEPS,
  },

  // template
  { name: 'template an existing folder', yaml: model('template: template\n') },
  { name: 'template with a trailing slash', yaml: model('template: ./template/\n') },
  {
    name: 'template missing',
    yaml: model('template: nowhere\n'),
    error: {
      path: 'template',
      message:
        /^"nowhere" does not exist \(looked for .*nowhere; relative paths are resolved against the config file's folder\)$/,
    },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'template a file',
    yaml: model('template: notes.txt\n'),
    error: { path: 'template', message: '"notes.txt" is a file, not a directory' },
    schemaCannot: PATH_EXISTS,
  },
  {
    name: 'template empty',
    yaml: model('template: ""\n'),
    error: { path: 'template', message: 'a path cannot be empty' },
  },

  // config
  {
    name: 'config free-form',
    yaml: model(
      'config:\n  grid: {nx: 400, length_m: 1000}\n  steps: [1, 2]\n  name: x\n  on: null\n',
    ),
  },
  { name: 'config empty', yaml: model('config: {}\n') },
  {
    name: 'config a list',
    yaml: model('config: [1, 2]\n'),
    error: { path: 'config', message: 'must be a mapping, got a list' },
  },
  {
    name: 'config null',
    yaml: model('config: null\n'),
    error: { path: 'config', message: 'must be a mapping, got null' },
  },

  // command
  { name: 'command', yaml: model('command: node wave.js input.json\n') },
  {
    name: 'command empty',
    yaml: model('command: ""\n'),
    error: { path: 'command', message: 'command cannot be empty' },
  },
  {
    name: 'command not text',
    yaml: model('command: 3\n'),
    error: { path: 'command', message: 'must be text, got 3' },
  },

  // mpi
  { name: 'mpi true', yaml: model('mpi: true\n') },
  { name: 'mpi false', yaml: model('mpi: false\n') },
  {
    name: 'mpi not a boolean',
    yaml: model('mpi: yes\n'),
    error: { path: 'mpi', message: 'must be true or false, got "yes"' },
  },
  {
    name: 'mpi a count of ranks',
    yaml: model('mpi: 4\n'),
    error: { path: 'mpi', message: 'must be true or false, got 4' },
  },

  // postprocess
  {
    name: 'postprocess of every type',
    yaml: model(
      'postprocess:\n  - type: noop\n  - type: checksum\n  - type: archive\n    format: zip\n  - type: command\n    command: ls\n',
    ),
  },
  { name: 'postprocess empty', yaml: model('postprocess: []\n') },
  {
    name: 'postprocess not a list',
    yaml: model('postprocess: {type: noop}\n'),
    error: { path: 'postprocess', message: 'must be a list, got a mapping' },
  },
  {
    name: 'postprocess unknown type with a near miss',
    yaml: model('postprocess:\n  - type: chekcsum\n'),
    error: {
      path: 'postprocess[0].type',
      message:
        'type "chekcsum" is not a postprocessor type. Did you mean "checksum"? Known types: noop, archive, checksum, command',
    },
  },
  {
    name: 'postprocess unknown type far from any',
    yaml: model('postprocess:\n  - type: frobnicate\n'),
    error: {
      path: 'postprocess[0].type',
      message:
        'type "frobnicate" is not a postprocessor type. Known types: noop, archive, checksum, command',
    },
  },
  {
    name: 'postprocess without a type',
    yaml: model('postprocess:\n  - stop_on_error: true\n'),
    error: {
      path: 'postprocess[0].type',
      message:
        'type is required: set it to the postprocessor type, one of noop, archive, checksum, command',
    },
  },
  {
    name: "postprocess breaking a postprocessor's own rule",
    yaml: model('postprocess:\n  - type: noop\n  - type: archive\n    format: rar\n'),
    error: { path: 'postprocess[1].format', message: 'must be "tar.gz" or "zip"; got "rar"' },
  },

  // unknown keys
  { name: 'JSON Schema reference key', yaml: model('$schema: ../schemas/model.schema.json\n') },
  {
    name: 'unknown key near a known one',
    yaml: model('comand: echo hi\n'),
    error: { path: 'comand', message: 'unknown key "comand"; did you mean "command"?' },
  },
  {
    name: 'unknown key missing an underscore',
    yaml: model('runid_subdir: false\n'),
    error: {
      path: 'runid_subdir',
      message: 'unknown key "runid_subdir"; did you mean "run_id_subdir"?',
    },
  },
  {
    name: 'unknown key far from any',
    yaml: model('colourful: true\n'),
    error: {
      path: 'colourful',
      message:
        'unknown key "colourful"; allowed keys are extends, run_id, output_dir, run_id_subdir, delete_existing, period, template, config, command, mpi, postprocess',
    },
  },
  ...['.', '..'].map(
    (id): ConfigCase => ({
      name: `run_id ${JSON.stringify(id)}`,
      yaml: `run_id: "${id}"\n`,
      error: {
        path: 'run_id',
        message:
          'cannot be "." or "..": it names a folder, and these name the folder it would be in and the one above',
      },
    }),
  ),
  ...['0s', '0h0m'].map(
    (interval): ConfigCase => ({
      name: `interval ${interval}`,
      yaml: period(...DAY, interval),
      error: { path: 'period.interval', message: 'must be longer than zero' },
    }),
  ),

  // what the system lets a program start with
  { name: 'command of 127 KiB', yaml: model(`command: ${'x'.repeat(127 * 1024)}\n`) },
  {
    name: 'command of 200 KiB',
    yaml: model(`command: ${'x'.repeat(200 * 1024)}\n`),
    error: { path: 'command', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'command postprocessor env_vars value of 200 KiB',
    yaml: model(
      `postprocess:\n  - type: command\n    command: "true"\n    env_vars:\n      BIG: ${'x'.repeat(200 * 1024)}\n`,
    ),
    error: { path: 'postprocess[0].env_vars.BIG', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
];
