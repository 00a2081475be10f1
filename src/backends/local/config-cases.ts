import {
  type BackendCase,
  EXEC_BYTES,
  KIB,
  ONE_ARG,
} from '../../../test/cases/backend-case-kit.js';

/**
 * The local backend: its command and shell. Each rule of its config as a
 * passing or failing case; test/cases/backend-cases.ts gathers every
 * backend's table, and the rules and schema agreement tests run them all.
 */
const local = (body: string) => `type: local\n${body}`;

export const CONFIG_CASES: BackendCase[] = [
  // local
  {
    name: 'local command',
    yaml: local(
      'command: python run.py\nshell: false\ncapture_output: false\nstream_output: true\n',
    ),
  },
  {
    name: 'local empty command',
    yaml: local('command: ""\n'),
    error: { path: 'command', message: 'command cannot be empty' },
  },
  {
    name: 'local shell not a boolean',
    yaml: local('shell: sometimes\n'),
    error: { path: 'shell', message: 'must be true or false, got "sometimes"' },
  },

  // what the system lets a program start with
  {
    name: 'local command of 200 KiB',
    yaml: local(`command: ${KIB(200)}\n`),
    error: { path: 'command', message: ONE_ARG },
    schemaCannot: EXEC_BYTES,
  },
  {
    name: 'local command of 200 KiB without a shell, split into arguments',
    yaml: local(`shell: false\ncommand: ${KIB(100)} ${KIB(100)}\n`),
  },
];
