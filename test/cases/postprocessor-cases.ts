import { type ConfigCase, DURATION_BOUNDS } from './model-cases.js';

/**
 * Every postprocessor config rule, as a passing or failing case. Each case is
 * a postprocessor config file on its own; the agreement test also runs each
 * one as an entry of a model file's postprocess list.
 */

const KNOWN_TYPES = 'Known types: noop, archive, checksum, command';

const archive = (body: string) => `type: archive\n${body}`;
const checksum = (body: string) => `type: checksum\n${body}`;
const command = (body: string) => `type: command\ncommand: python plot.py\n${body}`;

const TIMEOUT_RANGE = 'must be from 1 to 86400 seconds (1s to 1d)';
const TIMEOUT_FORM =
  'must be whole seconds or a duration such as "90m", "2h" or "1h30m", from 1 to 86400 seconds (1s to 1d)';
const OUTPUT_HINT = 'give a path relative to the run directory, such as "SHA256SUMS"';

export const POSTPROCESSOR_CASES: ConfigCase[] = [
  // type
  ...['noop', 'archive', 'checksum'].map(
    (type): ConfigCase => ({ name: `type ${type}`, yaml: `type: ${type}\n` }),
  ),
  { name: 'type command', yaml: 'type: command\ncommand: python plot.py\n' },
  {
    name: 'missing type',
    yaml: 'stop_on_error: true\n',
    error: {
      path: 'type',
      message:
        'type is required: set it to the postprocessor type, one of noop, archive, checksum, command',
    },
  },
  {
    name: 'unknown type with a near miss',
    yaml: 'type: chekcsum\n',
    error: {
      path: 'type',
      message: `type "chekcsum" is not a postprocessor type. Did you mean "checksum"? ${KNOWN_TYPES}`,
    },
  },
  {
    name: 'unknown type far from any',
    yaml: 'type: zip\n',
    error: { path: 'type', message: `type "zip" is not a postprocessor type. ${KNOWN_TYPES}` },
  },
  {
    name: 'type a number',
    yaml: 'type: 3\n',
    error: { path: 'type', message: `type 3 is not a postprocessor type. ${KNOWN_TYPES}` },
  },
  {
    name: 'JSON Schema reference key',
    yaml: 'type: noop\n$schema: ../schemas/postprocess-noop.schema.json\n',
  },

  // stop_on_error, on every type
  ...['type: noop', 'type: archive', 'type: checksum', 'type: command\ncommand: ls'].map(
    (head): ConfigCase => ({
      name: `stop_on_error on ${head.split('\n')[0]}`,
      yaml: `${head}\nstop_on_error: true\n`,
    }),
  ),
  {
    name: 'stop_on_error yes',
    yaml: 'type: noop\nstop_on_error: yes\n',
    error: { path: 'stop_on_error', message: 'must be true or false, got "yes"' },
  },

  // unknown keys
  {
    name: 'unknown key near a known one',
    yaml: 'type: noop\nstop_on_eror: true\n',
    error: {
      path: 'stop_on_eror',
      message: 'unknown key "stop_on_eror"; did you mean "stop_on_error"?',
    },
  },
  {
    name: 'unknown key far from any',
    yaml: 'type: noop\ncolourful: true\n',
    error: {
      path: 'colourful',
      message: 'unknown key "colourful"; allowed keys are type, stop_on_error, validate_outputs',
    },
  },
  {
    name: "a key of another type's",
    yaml: 'type: noop\nformat: zip\n',
    error: {
      path: 'format',
      message: 'unknown key "format"; allowed keys are type, stop_on_error, validate_outputs',
    },
  },

  // noop
  { name: 'noop validate_outputs', yaml: 'type: noop\nvalidate_outputs: false\n' },
  {
    name: 'noop validate_outputs not a boolean',
    yaml: 'type: noop\nvalidate_outputs: maybe\n',
    error: { path: 'validate_outputs', message: 'must be true or false, got "maybe"' },
  },

  // archive format
  ...['tar.gz', 'zip'].map(
    (format): ConfigCase => ({
      name: `archive format ${format}`,
      yaml: archive(`format: ${format}\n`),
    }),
  ),
  ...['tar', 'tgz', '7z'].map(
    (format): ConfigCase => ({
      name: `archive format ${format}`,
      yaml: archive(`format: "${format}"\n`),
      error: { path: 'format', message: `must be "tar.gz" or "zip"; got "${format}"` },
    }),
  ),
  {
    name: 'archive format a number',
    yaml: archive('format: 7\n'),
    error: { path: 'format', message: 'must be "tar.gz" or "zip"; got 7' },
  },

  // include and exclude, shared by archive and checksum
  {
    name: 'archive include and exclude',
    yaml: archive('include: ["output/**", "*.json"]\nexclude: ["**/*.tmp"]\n'),
  },
  { name: 'archive exclude empty', yaml: archive('exclude: []\n') },
  {
    name: 'archive include empty',
    yaml: archive('include: []\n'),
    error: { path: 'include', message: 'must have at least 1 item' },
  },
  {
    name: 'archive include an empty glob',
    yaml: archive('include: ["output/**", ""]\n'),
    error: { path: 'include[1]', message: 'a glob cannot be empty' },
  },
  {
    name: 'archive exclude an empty glob',
    yaml: archive('exclude: [""]\n'),
    error: { path: 'exclude[0]', message: 'a glob cannot be empty' },
  },
  {
    name: 'archive exclude not a list',
    yaml: archive('exclude: "*.tmp"\n'),
    error: { path: 'exclude', message: 'must be a list, got "*.tmp"' },
  },
  {
    name: 'checksum include and exclude',
    yaml: checksum('include: [output/**]\nexclude: [scratch/**]\n'),
  },
  {
    name: 'checksum include empty',
    yaml: checksum('include: []\n'),
    error: { path: 'include', message: 'must have at least 1 item' },
  },

  // archive destination
  ...['archives/latest.tar.gz', '/srv/archives/run.zip', '~/run.zip'].map(
    (destination): ConfigCase => ({
      name: `archive destination ${destination}`,
      yaml: archive(`destination: ${destination}\n`),
    }),
  ),
  {
    name: 'archive destination empty',
    yaml: archive('destination: ""\n'),
    error: { path: 'destination', message: 'a path cannot be empty' },
  },
  {
    name: 'archive destination misspelled',
    yaml: archive('destinaton: out.zip\n'),
    error: { path: 'destinaton', message: 'unknown key "destinaton"; did you mean "destination"?' },
  },

  // checksum output
  ...['SHA256SUMS', 'checksums/outputs.sha256', './a//b', '.modelrunx/SUMS'].map(
    (output): ConfigCase => ({
      name: `checksum output ${output}`,
      yaml: checksum(`output: ${output}\n`),
    }),
  ),
  {
    name: 'checksum output empty',
    yaml: checksum('output: ""\n'),
    error: { path: 'output', message: 'a path cannot be empty' },
  },

  // command
  {
    name: 'command missing',
    yaml: 'type: command\n',
    error: { path: 'command', message: 'is required' },
  },
  {
    name: 'command empty',
    yaml: 'type: command\ncommand: ""\n',
    error: { path: 'command', message: 'command cannot be empty' },
  },
  ...['1', '86400', '10m', '1h30m', '1d'].map(
    (timeout): ConfigCase => ({
      name: `command timeout ${timeout}`,
      yaml: command(`timeout: ${timeout}\n`),
    }),
  ),
  ...['0', '86401'].map(
    (timeout): ConfigCase => ({
      name: `command timeout ${timeout}`,
      yaml: command(`timeout: ${timeout}\n`),
      error: { path: 'timeout', message: `${TIMEOUT_RANGE}; got ${timeout}` },
    }),
  ),
  ...[
    ['0s', 0],
    ['1d1s', 86_401],
    ['25h', 90_000],
  ].map(
    ([timeout, seconds]): ConfigCase => ({
      name: `command timeout ${timeout}`,
      yaml: command(`timeout: ${timeout}\n`),
      error: { path: 'timeout', message: `${TIMEOUT_RANGE}; got ${seconds}` },
      schemaCannot: DURATION_BOUNDS,
    }),
  ),
  {
    name: 'command timeout not whole',
    yaml: command('timeout: 1.5\n'),
    error: { path: 'timeout', message: `${TIMEOUT_FORM}; got 1.5` },
  },
  {
    name: 'command timeout malformed',
    yaml: command('timeout: soon\n'),
    error: { path: 'timeout', message: `${TIMEOUT_FORM}; got "soon"` },
  },
  {
    name: 'command timeout misspelled',
    yaml: command('timeot: 5\n'),
    error: { path: 'timeot', message: 'unknown key "timeot"; did you mean "timeout"?' },
  },

  // command env_vars
  {
    name: 'command env_vars with numbers and booleans',
    yaml: command('env_vars:\n  PLOT_FORMAT: png\n  DPI: 300\n  _QUIET: true\n'),
  },
  {
    name: 'command env_vars name with a dash',
    yaml: command('env_vars:\n  b-c: x\n'),
    error: {
      path: 'env_vars.b-c',
      message:
        '"b-c" is not a valid environment variable name: use letters, digits and _, not starting with a digit',
    },
  },
  {
    name: 'command env_vars name starting with a digit',
    yaml: command('env_vars:\n  1A: x\n'),
    error: { path: 'env_vars.1A', message: /^"1A" is not a valid environment variable name/ },
  },
  {
    name: 'command env_vars list value',
    yaml: command('env_vars:\n  A: [1, 2]\n'),
    error: {
      path: 'env_vars.A',
      message: 'must be a string, number or boolean; got a list. Quote it if it should be text',
    },
  },
  {
    name: 'command env_vars not a map',
    yaml: command('env_vars: [A]\n'),
    error: { path: 'env_vars', message: 'must be a mapping, got a list' },
  },
  ...[
    ['/tmp/SUMS', 'is absolute, but the checksum file is written inside the run directory'],
    [
      '~/SUMS',
      'points into the home folder, but the checksum file is written inside the run directory',
    ],
    ['../SUMS', 'uses "..", but the checksum file must stay inside the run directory'],
    ['a/../../SUMS', 'uses "..", but the checksum file must stay inside the run directory'],
    ['a\\..\\SUMS', 'uses "..", but the checksum file must stay inside the run directory'],
    ['.', 'names a folder, not a file'],
    ['./', 'names a folder, not a file'],
    ['sums/', 'names a folder, not a file'],
    ['.modelrun/SUMS', 'is inside .modelrun/, which modelrun keeps for itself'],
    ['./.modelrun/SUMS', 'is inside .modelrun/, which modelrun keeps for itself'],
  ].map(
    ([output = '', problem]): ConfigCase => ({
      name: `checksum output ${output}`,
      yaml: checksum(`output: ${JSON.stringify(output)}\n`),
      error: { path: 'output', message: `"${output}" ${problem}; ${OUTPUT_HINT}` },
    }),
  ),
];
