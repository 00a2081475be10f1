/**
 * The top-level commands, by name: what src/cli/main.ts keeps a code cache
 * for each of, before commander and the command table are loaded. Any
 * other first word (a typo) shares the cache of `help`.
 * src/cli/command-names.test.ts checks this against the command table.
 */
export const COMMAND_NAMES: readonly string[] = [
  'init',
  'validate',
  'generate',
  'run',
  'postprocess',
  'pipeline',
  'ensemble',
  'status',
  'logs',
  'wait',
  'cancel',
  'runs',
  'backends',
  'completion',
  'help',
];
