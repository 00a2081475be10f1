import { FILE_KINDS } from '../load/file-kind.js';
import {
  argument,
  argumentList,
  type CommandSpec,
  choice,
  choiceArgument,
  flag,
  type InputOf,
  lateChoice,
  mandatory,
  negatable,
  optionalList,
  repeatable,
  value,
} from './option-table.js';

/**
 * Every command's arguments and options, declared once: the table
 * (command-table.ts) makes commander's commands from them, and each
 * command's run function takes the values they infer. Their order is the
 * order `--help` lists them in. This module stays light (no zod, no
 * registry): `--help` loads it.
 */

export const REPORT_FORMATS = ['text', 'json', 'github'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Loaded only when a command that takes --backend-type is reached. */
const backendTypes = async () => (await import('../backends/registry.js')).backendTypes;

const reportFormat = () => choice('--format <format>', 'output format', REPORT_FORMATS, 'text');
const backendType = () => lateChoice('--backend-type <type>', 'backend type', backendTypes);
const postprocessorConfigs = () =>
  repeatable(
    '--postprocessor-config <file>',
    'postprocessor config file, instead of the model file’s list; repeatable',
    'the model file’s postprocess list',
  );

/** The flags that layer values over and under the files a command loads (load/layering.ts). */
export const layerFlags = () => ({
  set: repeatable(
    '--set <path=value>',
    'set a value of the model (config.depth_m=10), or of the backend config (backend.memory=4g); the value is read as YAML, null removes the key; repeatable',
    'none',
  ),
  setString: repeatable(
    '--set-string <path=value>',
    'like --set, with the value taken as text, not read as YAML; applied after the --set values; repeatable',
    'none',
  ),
  siteConfig: negatable(
    '--no-site-config',
    'leave out the site config (MODELRUN_SITE_CONFIG, or ~/.config/modelrun/site.yml)',
  ),
});

/** The flags `run` and `pipeline` share, with one meaning in both. */
const runFlags = () => ({
  dryRun: flag(
    '--dry-run',
    'stage the inputs and print exactly what would run, without running it',
  ),
  skipGenerate: flag(
    '--skip-generate',
    'use the staging dir as it is, without staging the inputs again',
  ),
  postprocessorConfigs: postprocessorConfigs(),
  ...layerFlags(),
  postprocess: negatable('--no-postprocess', 'skip postprocessing'),
  json: flag(
    '--json',
    'print the run record as JSON on stdout (the model’s output goes to stderr)',
  ),
});

export const initSpec = {
  args: { dir: argument('[dir]', 'the project folder, created if missing', '.') },
  options: { json: flag('--json', 'print the project folder and the files written as JSON') },
} satisfies CommandSpec;

export const validateSpec = {
  args: { files: argumentList('<files...>', 'files to check') },
  options: {
    kind: choice(
      '--kind <kind>',
      'check every file as this kind (default: told by its content)',
      FILE_KINDS,
    ),
    format: reportFormat(),
    ...layerFlags(),
  },
} satisfies CommandSpec;

export const generateSpec = {
  args: { modelFile: argument('<model>', 'model file') },
  options: {
    json: flag('--json', 'print the staging directory and what was staged as JSON'),
    ...layerFlags(),
  },
} satisfies CommandSpec;

export const runSpec = {
  args: { modelFile: argument('<model>', 'model file') },
  options: {
    backendConfig: value(
      '--backend-config <file>',
      'backend config file (default: the local backend)',
    ),
    ...runFlags(),
    detach: flag(
      '--detach',
      'start the run in the background and return once the model runs; it outlives the terminal',
    ),
  },
} satisfies CommandSpec;

export const postprocessSpec = {
  args: { modelFile: argument('<model>', 'model file of the run') },
  options: {
    postprocessorConfigs: postprocessorConfigs(),
    json: flag('--json', 'print the run record as JSON on stdout (everything else goes to stderr)'),
    ...layerFlags(),
  },
} satisfies CommandSpec;

export const pipelineSpec = {
  args: {
    pipelineFile: argument(
      '<pipeline>',
      'pipeline file with model:, backend: and postprocess: sections',
    ),
  },
  options: {
    backendConfig: value(
      '--backend-config <file>',
      'backend config file, instead of the backend: section',
    ),
    ...runFlags(),
    cleanupOnFailure: flag(
      '--cleanup-on-failure',
      'remove the staging dir when the run fails (kept by default)',
    ),
  },
} satisfies CommandSpec;

export const ensembleSpec = {
  args: {
    ensembleFile: argument(
      '<ensemble>',
      'ensemble file: model:, backend: and the members (parameters:, members:, replicas:)',
    ),
  },
  options: {
    backendConfig: value(
      '--backend-config <file>',
      'backend config file, instead of the backend: section',
    ),
    maxParallel: value(
      '--max-parallel <n>',
      'the most members running at once (default: max_parallel:, else the CPU count on local, 4 on the others)',
    ),
    only: repeatable(
      '--only <member>',
      'run only this member, by index or run id (several: 1,4,wave-d5); repeatable',
      'every member',
    ),
    resume: flag(
      '--resume',
      'skip members whose last run succeeded with the same inputs; run the rest',
    ),
    follow: value(
      '--follow <member>',
      "stream this member's output live (by index or run id); the others go only to their logs",
    ),
    dryRun: flag(
      '--dry-run',
      'list the members with their run ids and values, and what would run for the first',
    ),
    postprocessorConfigs: postprocessorConfigs(),
    ...layerFlags(),
    postprocess: negatable('--no-postprocess', "skip each member's postprocessing"),
    json: flag('--json', 'print ensemble.json on stdout at the end'),
    detach: flag(
      '--detach',
      'run the ensemble in the background and return once it has started; it outlives the terminal',
    ),
  },
} satisfies CommandSpec;

export const backendsValidateSpec = {
  args: { files: argumentList('<files...>', 'config files to check') },
  options: {
    backendType: backendType(),
    format: reportFormat(),
    ...layerFlags(),
    explain: flag(
      '--explain',
      'show each value of a valid config, and the file (or --set) it came from',
    ),
  },
} satisfies CommandSpec;

export const backendsListSpec = {
  args: {},
  options: { json: flag('--json', 'print JSON') },
} satisfies CommandSpec;

export const backendsSchemaSpec = {
  args: {},
  options: {
    backendType: backendType(),
    all: flag(
      '--all',
      'emit every schema, plus backend.schema.json for any type, into --output DIR',
    ),
    format: choice('--format <format>', 'output format', ['json', 'yaml'], 'json'),
    output: value('--output <path>', 'file to write (a folder with --all); stdout if not given'),
    force: flag('--force', 'overwrite existing files'),
  },
} satisfies CommandSpec;

export const backendsCreateSpec = {
  args: {},
  options: {
    backendType: mandatory(backendType()),
    output: value('--output <file>', 'file to write; stdout if not given'),
    format: choice('--format <format>', 'yaml, or json (the default for a .json --output)', [
      'yaml',
      'json',
    ]),
    withExamples: flag(
      '--with-examples',
      'also set every field that has a default (examples stay commented out)',
    ),
    force: flag('--force', 'overwrite an existing file'),
    extends: value(
      '--extends <base>',
      'write a config that extends this base file, leaving it the fields it sets',
    ),
  },
} satisfies CommandSpec;

export const completionSpec = {
  args: { shell: choiceArgument('<shell>', 'the shell', SHELLS) },
  options: {},
} satisfies CommandSpec;

/** RUN, as `status`, `logs` and `cancel` take it. */
const runArgument = () =>
  argument('<run>', 'a run dir, the run’s model file, or a run id under ./simulations');

export const RUN_STATUSES = [
  'running',
  'submitted',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
] as const;

export const statusSpec = {
  args: { run: runArgument() },
  options: {
    json: flag('--json', 'print the record and what the engine says as JSON'),
  },
} satisfies CommandSpec;

export const logsSpec = {
  args: { run: runArgument() },
  options: {
    follow: flag('-f, --follow', 'go on printing what the model writes until the run ends'),
    stderr: flag('--stderr', 'the model’s standard error instead of its standard output'),
    tail: value('--tail <lines>', 'only the last lines (a number)'),
    json: flag('--json', 'print the log and where it is as JSON (not with -f)'),
  },
} satisfies CommandSpec;

export const waitSpec = {
  args: { run: runArgument() },
  options: {
    json: flag(
      '--json',
      'print the run record as JSON once the run has ended; the model’s output goes to stderr',
    ),
  },
} satisfies CommandSpec;

export const cancelSpec = {
  args: { run: runArgument() },
  options: {
    json: flag('--json', 'print the run record as JSON once it has stopped'),
  },
} satisfies CommandSpec;

export const runsSpec = {
  args: {
    dirs: optionalList('[dirs...]', 'folders to look for runs in (default: ./simulations)'),
  },
  options: {
    json: flag('--json', 'print the runs as JSON'),
    status: choice('--status <status>', 'only runs of this status', RUN_STATUSES),
    refresh: flag(
      '--refresh',
      'ask the engines about runs on record as running, and put right those that ended',
    ),
  },
} satisfies CommandSpec;

export type InitOptions = InputOf<typeof initSpec>;
export type ValidateOptions = InputOf<typeof validateSpec>;
export type GenerateOptions = InputOf<typeof generateSpec>;
export type RunOptions = InputOf<typeof runSpec>;
export type PostprocessOptions = InputOf<typeof postprocessSpec>;
export type PipelineOptions = InputOf<typeof pipelineSpec>;
export type EnsembleOptions = InputOf<typeof ensembleSpec>;
export type BackendsValidateOptions = InputOf<typeof backendsValidateSpec>;
export type BackendsListOptions = InputOf<typeof backendsListSpec>;
export type BackendsSchemaOptions = InputOf<typeof backendsSchemaSpec>;
export type BackendsCreateOptions = InputOf<typeof backendsCreateSpec>;
export type CompletionOptions = InputOf<typeof completionSpec>;
export type StatusOptions = InputOf<typeof statusSpec>;
export type LogsOptions = InputOf<typeof logsSpec>;
export type CancelOptions = InputOf<typeof cancelSpec>;
export type RunsOptions = InputOf<typeof runsSpec>;
export type WaitOptions = InputOf<typeof waitSpec>;
