import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Hostile inputs to the loader: files that are not files, bytes that are not
 * UTF-8, YAML that YAML allows but modelrun must not read, and values that
 * mean something other than what was written.
 */

/** Writes `model.yml` (or `name`) into the case's folder and runs `args` on it. */
function file(
  content: string | Buffer,
  args: (name: string) => string[],
  run: Omit<HostileRun, 'args'> = {},
  name = 'model.yml',
) {
  return ({ dir }: HostilePaths): HostileRun => {
    writeFileSync(join(dir, name), content);
    return { args: args(name), keep: [name], ...run };
  };
}

const validate = (name: string) => ['validate', name];
const backendsValidate = (name: string) => ['backends', 'validate', name];
const run = (name: string) => ['run', name];
const model = (body: string) => `run_id: hostile\ncommand: "true"\n${body}`;
const docker = (body: string) => `type: docker\nimage: modelrun-test/busybox\n${body}`;

function fifo(args: (name: string) => string[]) {
  return ({ dir }: HostilePaths): HostileRun => {
    execFileSync('mkfifo', [join(dir, 'config.yml')]);
    return {
      args: args('config.yml'),
      says: /is a named pipe \(FIFO\), not a config file/,
      timeoutS: 10,
    };
  };
}

const manyKeys = (count: number, indent: string) =>
  Array.from({ length: count }, (_, i) => `${indent}k${i}: ${i}\n`).join('');

export const hostileCases: HostileCase[] = [
  // Files that are not regular files: refused at once, never read.
  { name: 'a model file that is a FIFO with no writer', setup: fifo(validate) },
  { name: 'a backend config that is a FIFO with no writer', setup: fifo(backendsValidate) },
  { name: 'a FIFO given to run', setup: fifo(run) },
  ...['/dev/zero', '/dev/urandom'].flatMap((device): HostileCase[] => [
    {
      name: `a model file that is ${device}`,
      setup: () => ({ args: ['validate', device], says: /is a character device/, timeoutS: 10 }),
    },
    {
      name: `a backend config that is ${device}, given to run`,
      setup: file(model(''), (name) => ['run', name, '--backend-config', device], {
        says: /is a character device/,
        timeoutS: 10,
      }),
    },
  ]),
  {
    name: 'a model file that is /dev/stdin',
    setup: () => ({ args: ['validate', '/dev/stdin'], says: /not a config file/, timeoutS: 10 }),
  },
  {
    name: 'a backend config that is a Unix socket',
    setup: async ({ dir }) => {
      const server = createServer();
      const path = join(dir, 'backend.sock');
      await new Promise<void>((resolve) => server.listen(path, resolve));
      return {
        args: ['backends', 'validate', path],
        says: /is a socket, not a config file/,
        timeoutS: 10,
        teardown: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  },

  // Bytes and YAML that must not be read quietly.
  {
    name: 'a model file with a Latin-1 byte',
    setup: file(Buffer.from('run_id: r1\ncommand: "caf\xe9"\n', 'latin1'), validate, {
      says: /byte 0xe9 at byte offset 24 is not UTF-8/,
    }),
  },
  {
    name: 'a model file with a UTF-8 byte order mark',
    setup: file(`\uFEFF${model('')}`, validate, { exit: [0] }),
  },
  {
    name: 'a command given as an !include tag',
    setup: file('run_id: r1\ncommand: !include /etc/passwd\n', run, {
      says: /YAML tag !include is not supported/,
    }),
  },
  {
    name: 'a backend value with a !!binary tag',
    setup: file(docker('user: !!binary MTAwMA==\n'), backendsValidate, {
      says: /YAML tag !!binary is not supported/,
    }),
  },
  {
    name: 'a model file nested 10,000 levels deep',
    setup: file(model(`config: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`), validate, {
      says: /nests lists or mappings more than 100 levels deep/,
    }),
  },
  {
    name: 'a model file with 40,000 unknown keys',
    setup: file(model(manyKeys(40_000, '')), validate, {
      says: /39980 more unknown keys from here on/,
      timeoutS: 20,
    }),
  },
  {
    name: 'a model file with 40,000 keys in config',
    setup: file(model(`config:\n${manyKeys(40_000, '  ')}`), validate, {
      exit: [0],
      timeoutS: 20,
    }),
  },
  {
    name: 'a model file with a repeated key',
    setup: file(model('run_id: again\n'), validate, {
      says: /key "run_id" appears twice in this mapping \(first on line 1\)/,
    }),
  },
  {
    name: 'a model file holding a 10 MB string',
    setup: file(model(`config:\n  blob: "${'x'.repeat(10 * 1024 * 1024)}"\n`), validate, {
      says: /config files are limited to 1048576 bytes/,
    }),
  },
  {
    name: 'config text with control characters',
    setup: file(model('config:\n  colour: "\\e[31mred\\e[0m\\a"\n'), validate, { exit: [0] }),
  },
  {
    name: 'a template path with a NUL byte',
    setup: file(model('template: "temp\\0late"\n'), run, {
      says: /a path cannot hold control characters/,
    }),
  },
  {
    name: 'a working_dir with a newline',
    setup: file(docker('working_dir: "data\\n"\n'), backendsValidate, {
      says: /a path cannot hold control characters/,
    }),
  },

  // Numbers that no field can hold.
  {
    name: 'cpu: 1e400',
    setup: file(docker('cpu: 1e400\n'), backendsValidate, {
      says: /cpu: must be a number, got infinity/,
    }),
  },
  {
    name: 'cpu: 2^64',
    setup: file(docker('cpu: 18446744073709551616\n'), backendsValidate, {
      says: /must be at most 128/,
    }),
  },
  {
    name: 'a timeout longer than a year',
    setup: file('type: local\ntimeout: 400d\n', backendsValidate, {
      says: /from 60 to 31536000 seconds/,
    }),
  },
  {
    name: 'a timeout of 2^64 seconds as text',
    setup: file('type: local\ntimeout: "18446744073709551616"\n', backendsValidate, {
      says: /from 60 to 31536000 seconds/,
    }),
  },
  {
    name: 'memory: 1024 without a unit',
    setup: file(docker('memory: 1024\n'), backendsValidate, {
      says: /needs a unit: write "1024m" for 1024 megabytes/,
    }),
  },
  {
    name: 'a memory size beyond any machine',
    setup: file(docker('memory: 99999999999999999999g\n'), backendsValidate, {
      says: /is too large/,
    }),
  },

  // Values from the environment mean what the environment holds.
  {
    name: 'a run_id from a variable holding a comment sign',
    setup: file('run_id: ${X}\n', validate, {
      env: { X: 'a #comment' },
      says: /run_id: must use only letters.*\(from \$\{X\}\)/,
    }),
  },
  {
    name: 'a cpu count from a variable holding hex',
    setup: file(docker('cpu: ${NCPU}\n'), backendsValidate, {
      env: { NCPU: '0x1F' },
      says: /cpu: must be a number, got "0x1F" \(from \$\{NCPU\}\)/,
    }),
  },
  {
    name: 'a nested default whose variable is unset',
    setup: file(docker('user: ${RUN_AS:-${HOSTILE_UNSET_USER}}\n'), backendsValidate, {
      env: { RUN_AS: undefined, HOSTILE_UNSET_USER: undefined },
      says: /environment variable HOSTILE_UNSET_USER is not set/,
    }),
  },

  // YAML that parses but cannot be read as a config as written.
  {
    name: 'an env var named __proto__, which would be dropped silently',
    setup: file(
      'type: local\nenv_vars: {"__proto__": hello}\n',
      backendsValidate,
      {
        exit: [1],
        says: /b\.yml:2:\d+ +key "__proto__" is not allowed/,
      },
      'b.yml',
    ),
  },
  {
    name: 'an env var named __proto__ holding a mapping',
    setup: file('type: local\nenv_vars: {"__proto__": {FOO: bar}}\n', backendsValidate, {
      says: /key "__proto__" is not allowed/,
    }),
  },
  {
    name: 'an alias whose anchor is not defined',
    setup: file(model('').replace('command: "true"', 'command: *x'), validate, {
      says: /alias \*x is not defined/,
    }),
  },
  {
    name: 'a key that is a list',
    setup: file(model('? [a]\n: 1\n'), validate, {
      says: /a key must be plain text/,
    }),
  },
  {
    name: 'a second YAML document in a config file',
    setup: file(model('---\nb: 2\n'), validate, {
      says: /a config file holds one/,
    }),
  },
  {
    name: 'a memory size with the unit gb',
    setup: file(docker('memory: "1gb"\n'), backendsValidate, {
      says: /memory: the unit "gb" in "1gb" is not understood/,
    }),
  },
  {
    name: 'a shared memory size of 0, which Docker reads as its default',
    setup: file(docker('shm_size: "0"\n'), backendsValidate, {
      says: /shm_size: a size of 0 is not allowed/,
    }),
  },
  {
    name: 'a pipeline whose model is a list',
    setup: file(
      'model: [1]\n',
      (name) => ['pipeline', name],
      {
        says: /model: must be the path of a model file, or the model written inline as a mapping/,
      },
      'pipeline.yml',
    ),
  },
  {
    name: 'a pipeline whose model is /dev/zero from a variable',
    setup: file(
      'model: ${MF}\n',
      (name) => ['pipeline', name],
      {
        env: { MF: '/dev/zero' },
        says: /is a character device, not a regular file/,
        timeoutS: 10,
      },
      'pipeline.yml',
    ),
  },
  // An empty argument is not the current folder.
  {
    name: 'an empty path given to validate',
    setup: () => ({ args: ['validate', ''], exit: [2], says: /the path is empty/ }),
  },
  {
    name: 'an empty path given to run',
    setup: () => ({ args: ['run', ''], exit: [2], says: /the model file path is empty/ }),
  },
  {
    name: 'an empty --backend-config',
    setup: file(model(''), (name) => ['run', name, '--backend-config', '', '--dry-run'], {
      exit: [2],
      says: /the backend config path is empty/,
    }),
  },
];
