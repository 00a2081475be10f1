import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Odd files given to the commands that read them: `validate`, `backends
 * validate`, `run --dry-run` and `pipeline`. Each must end in an answer a
 * person can act on (exit 1 or 2, or 0 where the input is fine after all),
 * never a bug, a stack trace or a hang.
 */

/** Ten levels of nine: 9^10 nodes when expanded. */
function aliasBomb(indent: string): string {
  const lines = [`${indent}l0: &l0 [x, x, x, x, x, x, x, x, x]`];
  for (let i = 1; i <= 10; i++) {
    const prev = `*l${i - 1}`;
    lines.push(`${indent}l${i}: &l${i} [${Array(9).fill(prev).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

const MB = 1024 * 1024;

/** A model file body, and whether modelrun may accept it (exit 0). */
interface ModelInput {
  name: string;
  text: string;
  fine?: boolean;
}

const modelInputs: ModelInput[] = [
  { name: 'an alias bomb', text: `run_id: r1\ncommand: "true"\nconfig:\n${aliasBomb('  ')}` },
  { name: 'an alias bomb as run_id', text: `${aliasBomb('')}run_id: *l10\ncommand: "true"\n` },
  { name: 'a duplicate key', text: 'run_id: r1\nrun_id: r2\ncommand: "true"\n' },
  {
    name: 'flow nesting 100000 deep',
    text: `run_id: r1\ncommand: "true"\nconfig: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
  },
  {
    name: 'block nesting 5000 deep',
    text: `run_id: r1\ncommand: "true"\nconfig:\n${Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i + 2)}k:`).join('\n')} 1\n`,
  },
  { name: 'a number as run_id', text: 'run_id: 1e309\ncommand: "true"\n' },
  {
    name: 'absurd numbers in config',
    text: 'run_id: r1\ncommand: "true"\nconfig: { a: 1e309, b: -1e309, c: .nan, d: 0x7fffffffffffffffffff, e: 1_000 }\n',
    fine: true,
  },
  {
    name: 'an absurd period',
    text: 'run_id: r1\ncommand: "true"\nperiod:\n  start: 0001-01-01T00:00:00Z\n  end: 9999-12-31T23:59:59Z\n  interval: 1s\n',
  },
  { name: 'a 10 MB run_id', text: `run_id: ${'r'.repeat(10 * MB)}\ncommand: "true"\n` },
  {
    name: 'a 900 kB command, just under the size limit',
    text: `run_id: r1\ncommand: "echo ${'x'.repeat(900_000)} > /dev/null"\n`,
    fine: true,
  },
  {
    name: 'an escape sequence in run_id',
    text: 'run_id: "r1\\e[2J\\e]0;owned\\a"\ncommand: "true"\n',
  },
  { name: 'a NUL byte in run_id', text: 'run_id: "r\\0"\ncommand: "true"\n' },
  {
    name: 'control characters in a config key and value',
    text: 'run_id: r1\ncommand: "true"\nconfig:\n  "k\\x07\\e[31m": "v\\r\\u202e\\0"\n',
    fine: true,
  },
  { name: 'a raw NUL byte in the file', text: 'run_id: r1\ncommand: "true"\n\0\n' },
  { name: 'a raw escape in a key', text: 'run_id: r1\ncommand: "true"\nk\x1b[2J: 1\n' },
  // Read with U+FFFD in place of the bad bytes, as editors do: fine.
  { name: 'not UTF-8', text: 'run_id: r1\ncommand: "\xff\xfe"\n', fine: true },
  {
    name: 'a YAML tag of a JS type',
    text: 'run_id: !!js/function "function () {}"\ncommand: "true"\n',
  },
  { name: 'many documents', text: 'run_id: r1\ncommand: "true"\n---\nrun_id: r2\n' },
  { name: 'a list, not a mapping', text: '- run_id: r1\n' },
];

const exitsFor = (input: ModelInput) => (input.fine ? [0, 1, 2] : [1, 2]);

/** The three commands that read a model file, each given `model.yml` in the row's folder. */
const modelCommands: [string, (dir: string) => string[]][] = [
  ['validate', () => ['validate', 'model.yml']],
  ['run --dry-run', () => ['run', 'model.yml', '--dry-run', '--no-postprocess']],
  [
    'pipeline',
    (dir) => {
      writeFileSync(
        join(dir, 'pipeline.yml'),
        'model: model.yml\nbackend:\n  type: local\n  timeout: 30s\n',
      );
      return ['pipeline', 'pipeline.yml'];
    },
  ],
];

const modelRows: HostileCase[] = modelInputs.flatMap((input) =>
  modelCommands.map(
    ([command, args]): HostileCase => ({
      name: `${command}: ${input.name}`,
      setup: ({ dir }) => {
        writeFileSync(join(dir, 'model.yml'), input.text, 'latin1');
        return { args: args(dir), exit: exitsFor(input), keep: ['model.yml'], timeoutS: 30 };
      },
    }),
  ),
);

const backendInputs: ModelInput[] = [
  { name: 'an alias bomb', text: `type: local\nenv_vars:\n${aliasBomb('  ')}` },
  { name: 'a duplicate type', text: 'type: local\ntype: docker\n' },
  {
    name: 'absurd numbers',
    text: 'type: docker\nimage: busybox\ncpu: 1e309\nmemory: 99999999999999999999999g\ntimeout: 99999999999999999999d\n',
  },
  { name: 'a NaN cpu', text: 'type: docker\nimage: busybox\ncpu: .nan\n' },
  { name: 'a negative node count', text: 'type: slurm\nnodes: -1\n' },
  { name: 'a 10 MB image name', text: `type: docker\nimage: ${'a'.repeat(10 * MB)}\n` },
  {
    name: 'an escape sequence in an env var',
    text: 'type: local\nenv_vars:\n  "A\\e[2J": "\\e]0;x\\a"\n',
  },
  {
    name: 'flow nesting 100000 deep',
    text: `type: local\nenv_vars: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`,
  },
];

const backendRows: HostileCase[] = backendInputs.map(
  (input): HostileCase => ({
    name: `backends validate: ${input.name}`,
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'backend.yml'), input.text);
      return { args: ['backends', 'validate', 'backend.yml'], keep: ['backend.yml'] };
    },
  }),
);

/** Special files in place of a config file. */
const specialFiles: [string, (paths: HostilePaths) => string][] = [
  // Reading it once blocked forever, waiting for a writer.
  [
    'a FIFO',
    ({ dir }) => {
      execFileSync('mkfifo', [join(dir, 'special.yml')]);
      return 'special.yml';
    },
  ],
  // A device reports size 0 and never ends; it was once read to the end.
  ['/dev/zero', () => '/dev/zero'],
  ['/dev/null', () => '/dev/null'],
  [
    'a folder',
    ({ dir }) => {
      mkdirSync(join(dir, 'special.yml'));
      return 'special.yml';
    },
  ],
  // `pipeline` with `model:` a symlink loop once exited 70 (ELOOP from a
  // stat of the model path).
  [
    'a symlink loop',
    ({ dir }) => {
      symlinkSync('special.yml', join(dir, 'special.yml'));
      return 'special.yml';
    },
  ],
  [
    'a symlink to a model file outside',
    ({ dir, outside }) => {
      symlinkSync(join(outside, 'model.yml'), join(dir, 'special.yml'));
      return 'special.yml';
    },
  ],
];

const specialCommands: [string, (file: string, dir: string) => HostileRun][] = [
  ['validate', (file) => ({ args: ['validate', file], exit: [0, 1, 2] })],
  ['backends validate', (file) => ({ args: ['backends', 'validate', file], exit: [1, 2] })],
  ['run --dry-run', (file) => ({ args: ['run', file, '--dry-run'], exit: [0, 1, 2] })],
  [
    'pipeline',
    (file, dir) => {
      writeFileSync(join(dir, 'pipeline.yml'), `model: ${join(dir, file)}\n`);
      // The model outside is valid, and is staged beside the symlink: 0 too.
      return { args: ['pipeline', 'pipeline.yml'], exit: [0, 1, 2] };
    },
  ],
  ['pipeline file', (file) => ({ args: ['pipeline', file], exit: [1, 2] })],
];

const specialRows: HostileCase[] = specialFiles.flatMap(([what, make]) =>
  specialCommands.map(
    ([command, run]): HostileCase => ({
      name: `${command}: the file is ${what}`,
      setup: (paths) => ({ ...run(make(paths), paths.dir), timeoutS: 15 }),
    }),
  ),
);

export const hostileCases: HostileCase[] = [...modelRows, ...backendRows, ...specialRows];
