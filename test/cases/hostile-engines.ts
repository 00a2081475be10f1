import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { dockerUnavailable, slurmUnavailable } from '../helpers/engines.js';
import { makeFakeApptainer } from '../helpers/fake-apptainer.js';
import type { HostileCase, HostilePaths } from '../helpers/hostile.js';

/**
 * Engine and CLI mistakes: image names an engine refuses, Docker addresses
 * modelrun cannot use, runs with no command, a pull that writes nothing,
 * --output targets that cannot or must not be written.
 */

const MODEL = 'run_id: hostile\ncommand: "true"\n';
const NO_COMMAND = 'run_id: hostile\n';

/** Writes the files of a row into its folder. */
function files(dir: string, spec: Record<string, string>): void {
  for (const [name, text] of Object.entries(spec)) writeFileSync(join(dir, name), text);
}

let docker: string | undefined | null = null;
const noDocker = () => {
  if (docker === null) docker = dockerUnavailable();
  return docker === undefined ? undefined : `no Docker engine: ${docker}`;
};
let slurm: string | undefined | null = null;
const noSlurm = () => {
  if (slurm === null) slurm = slurmUnavailable();
  return slurm === undefined ? undefined : `no Slurm cluster: ${slurm}`;
};

const refusedImages = ['--privileged', 'UPPER/Case', 'a..b', '../../etc'];

const imageRows: HostileCase[] = refusedImages.flatMap((image): HostileCase[] => [
  {
    name: `backends validate: docker image "${image}"`,
    setup: ({ dir }) => {
      files(dir, { 'docker.yml': `type: docker\nimage: "${image}"\n` });
      return {
        args: ['backends', 'validate', 'docker.yml'],
        exit: [1],
        says: /docker\.yml:2:\d+ +image: .*is not an image reference/,
        keep: ['docker.yml'],
      };
    },
  },
  {
    name: `run: docker image "${image}"`,
    setup: ({ dir }) => {
      files(dir, { 'model.yml': MODEL, 'docker.yml': `type: docker\nimage: "${image}"\n` });
      return {
        args: ['run', 'model.yml', '--backend-config', 'docker.yml'],
        exit: [2],
        says: /is not an image reference/,
        keep: ['model.yml', 'docker.yml'],
      };
    },
  },
]);

const dockerRun = (env: Record<string, string>, says: RegExp, exit = [1]) => ({
  setup: ({ dir }: HostilePaths) => {
    files(dir, {
      'model.yml': MODEL,
      'docker.yml': 'type: docker\nimage: modelrun-test/busybox\npull_policy: never\n',
    });
    return {
      args: ['run', 'model.yml', '--backend-config', 'docker.yml'],
      env,
      exit,
      says,
      keep: ['model.yml', 'docker.yml'],
    };
  },
});

const dockerHostRows: HostileCase[] = [
  {
    name: 'DOCKER_HOST=ssh://',
    ...dockerRun(
      { DOCKER_HOST: 'ssh://me@build-host' },
      /is an ssh:\/\/ engine.*\n.*hint: .*ssh -nNT -L/,
    ),
  },
  {
    name: 'DOCKER_HOST=npipe://',
    ...dockerRun({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }, /Windows named pipe/),
  },
  {
    name: 'DOCKER_HOST garbage',
    ...dockerRun({ DOCKER_HOST: 'not a url' }, /is not an address modelrun can use/),
  },
  {
    name: 'DOCKER_HOST=tcp:// with no host',
    ...dockerRun({ DOCKER_HOST: 'tcp://' }, /not a valid address/),
  },
  {
    name: 'DOCKER_HOST with a port out of range',
    ...dockerRun({ DOCKER_HOST: 'tcp://127.0.0.1:99999' }, /not a valid address/),
  },
  {
    name: 'DOCKER_HOST=tcp:// to a closed port',
    ...dockerRun(
      { DOCKER_HOST: 'tcp://127.0.0.1:1' },
      /Cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1/,
    ),
  },
  {
    name: 'DOCKER_HOST=unix:// to a missing socket',
    ...dockerRun(
      { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      /Cannot reach the Docker engine/,
    ),
  },
  {
    name: 'DOCKER_TLS_VERIFY without the certificate files',
    ...dockerRun(
      {
        DOCKER_HOST: 'tcp://127.0.0.1:2376',
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: '/nonexistent',
      },
      /\/nonexistent\/ca\.pem cannot be read/,
    ),
  },
  {
    name: 'DOCKER_HOST=tcp:// to a port that accepts and never answers',
    setup: async (paths) => {
      const silent = await silentListener();
      const row = dockerRun(
        { DOCKER_HOST: silent.url },
        /does not answer: no reply to the version request within 15 s\n.*hint: /,
      ).setup(paths);
      return { ...row, timeoutS: 30, teardown: silent.close };
    },
  },
  {
    name: 'backends list with DOCKER_HOST=ssh://',
    setup: () => ({
      args: ['backends', 'list'],
      env: { DOCKER_HOST: 'ssh://me@build-host' },
      exit: [0],
      says: /✗ docker .*\n.*is an ssh:\/\/ engine/,
    }),
  },
  {
    name: 'a docker image name longer than the engine takes',
    skip: noDocker,
    setup: ({ dir }) => {
      files(dir, { 'model.yml': MODEL, 'docker.yml': `type: docker\nimage: ${'a'.repeat(300)}\n` });
      return {
        args: ['run', 'model.yml', '--backend-config', 'docker.yml'],
        exit: [1],
        says: /refuses the image name/,
        keep: ['model.yml', 'docker.yml'],
      };
    },
  },
];

/** A TCP port that accepts connections and never writes a byte: a hung engine. */
async function silentListener(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `tcp://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const noCommandRows: HostileCase[] = [
  ...['local', 'docker', 'slurm'].map(
    (type): HostileCase => ({
      name: `run --dry-run with no command, on ${type}`,
      setup: ({ dir }) => {
        const backend =
          type === 'docker' ? 'type: docker\nimage: modelrun-test/busybox\n' : `type: ${type}\n`;
        files(dir, { 'model.yml': NO_COMMAND, 'backend.yml': backend });
        return {
          args: ['run', 'model.yml', '--backend-config', 'backend.yml', '--dry-run'],
          exit: [2],
          says: /there is no command to run\n.*hint: set `command:` in the model file, or `(command|executable):` in the \w+ backend config/,
        };
      },
    }),
  ),
  {
    name: 'run with no command on a real Slurm cluster submits nothing',
    skip: noSlurm,
    setup: ({ dir }) => {
      files(dir, { 'model.yml': NO_COMMAND, 'slurm.yml': 'type: slurm\n' });
      return {
        args: ['run', 'model.yml', '--backend-config', 'slurm.yml'],
        exit: [2],
        says: /there is no command to run/,
      };
    },
  },
  {
    name: 'run with no command on apptainer',
    setup: ({ dir }) => {
      const fake = makeFakeApptainer();
      files(dir, {
        'model.yml': NO_COMMAND,
        'app.yml': 'type: apptainer\nimage: docker://busybox\ncache_dir: cache\n',
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'app.yml'],
        env: { PATH: `${fake.binDir}:${process.env.PATH ?? ''}` },
        exit: [2],
        says: /there is no command to run/,
        teardown: () => fake.remove(),
      };
    },
  },
  {
    name: 'an apptainer pull that exits 0 but writes no image',
    setup: ({ dir }) => {
      const fake = makeFakeApptainer();
      files(dir, {
        'model.yml': MODEL,
        'app.yml': 'type: apptainer\nimage: docker://busybox\ncache_dir: cache\n',
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'app.yml'],
        env: { PATH: `${fake.binDir}:${process.env.PATH ?? ''}`, FAKE_NO_IMAGE: '1' },
        exit: [1],
        says: /`apptainer pull` exited 0 but wrote no image/,
        teardown: () => fake.remove(),
      };
    },
  },
];

const outputTargets: [string, (paths: HostilePaths) => string, RegExp, string[]?][] = [
  ['a folder', () => '.', /\. is a folder/],
  ['an empty path', () => '', /--output is empty: it names no file to write/],
  ['/dev/full', () => '/dev/full', /is a character device, not a regular file/],
  [
    'a symlink to a file outside',
    ({ dir, outside }) => link(dir, join(outside, 'data.txt')),
    /is a symlink/,
  ],
  [
    'a dangling symlink outside',
    ({ dir, outside }) => link(dir, join(outside, 'new.yml')),
    /is a symlink/,
  ],
  ['an existing file', ({ dir }) => mine(dir, 'mine.yml'), /already exists/, ['mine.yml']],
  [
    'a path under a file',
    ({ dir }) => mine(dir, 'mine.yml/x.yml'),
    /a folder on its path is a file/,
    ['mine.yml'],
  ],
];

/** A file of the row's own, for targets that must be kept as they are. */
function mine(dir: string, name: string): string {
  files(dir, { 'mine.yml': 'mine\n' });
  return name;
}

function link(dir: string, to: string): string {
  symlinkSync(to, join(dir, 'link.yml'));
  return 'link.yml';
}

const outputRows: HostileCase[] = outputTargets.flatMap(([what, target, says, keep]) =>
  (['create', 'schema'] as const).map(
    (command): HostileCase => ({
      name: `backends ${command} --output ${what}`,
      setup: (paths) => ({
        args: ['backends', command, '--backend-type', 'local', '--output', target(paths)],
        exit: [2],
        says,
        keep: keep ?? [],
      }),
    }),
  ),
);

const nameRows: HostileCase[] = [
  {
    name: 'backends schema --all --output with an empty path',
    setup: () => ({
      args: ['backends', 'schema', '--all', '--output', ''],
      exit: [2],
      says: /--output is empty: it names no folder to write/,
    }),
  },
  {
    name: 'a template file whose name is not UTF-8',
    setup: ({ dir }) => {
      files(dir, {
        'model.yml': 'run_id: r1\noutput_dir: ./out\ntemplate: ./template\ncommand: "true"\n',
      });
      mkdirSync(join(dir, 'template'));
      writeFileSync(Buffer.from(`${join(dir, 'template', 'bad')}\xe9name.txt`, 'latin1'), 'x\n');
      return {
        args: ['generate', 'model.yml'],
        exit: [2],
        says: /template entry bad\\xe9name\.txt: its name is not UTF-8 .*\n.*hint: rename it/,
        keep: ['model.yml', 'template'],
      };
    },
  },
];

/**
 * Variables that each pass validation (under 128 KiB, under 2 MiB less
 * headroom together; from the environment, as a config file holds at most
 * 1 MiB), and that the host's own environment, which the local backend and
 * a command postprocessor pass on, pushes over ARG_MAX at start.
 */
const NEAR_LIMIT = `{${Array.from({ length: 15 }, (_, i) => `V${i}: "\${NEAR}"`).join(', ')}}`;
// NEAR is also in modelrun's own environment, which the model inherits.
const HOST_ENV = { NEAR: 'a'.repeat(127 * 1024), HOST_BIG: 'h'.repeat(100_000) };

/** Commands and environments larger than the system lets a process start with. */
const tooLargeRows: HostileCase[] = [
  {
    name: 'a local env var too large for the system',
    setup: ({ dir }) => {
      files(dir, { 'model.yml': MODEL, 'local.yml': `type: local\nenv_vars: ${NEAR_LIMIT}\n` });
      return {
        args: ['run', 'model.yml', '--backend-config', 'local.yml'],
        env: HOST_ENV,
        exit: [1],
        says: /could not start the model: the command line and environment are too large for the system \(E2BIG\)\n.*hint: move big values/,
        keep: ['model.yml', 'local.yml'],
        timeoutS: 10,
      };
    },
  },
  {
    name: 'a local command whose file name is too long for the system',
    setup: ({ dir }) => {
      files(dir, {
        'model.yml': MODEL,
        'local.yml': `type: local\nshell: false\ncommand: /${'a'.repeat(5000)}\n`,
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'local.yml'],
        exit: [1],
        says: /too long for the system \(ENAMETOOLONG\)/,
        keep: ['model.yml', 'local.yml'],
        timeoutS: 10,
      };
    },
  },
  {
    name: 'a command postprocessor env var too large for the system',
    setup: ({ dir }) => {
      files(dir, {
        'model.yml': `${MODEL}postprocess:\n  - type: command\n    command: "true"\n    env_vars: ${NEAR_LIMIT}\n`,
        'local.yml': 'type: local\n',
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'local.yml'],
        env: HOST_ENV,
        exit: [1],
        says: /`true` could not start: the command line and environment are too large for the system \(E2BIG\)/,
        keep: ['model.yml', 'local.yml'],
        timeoutS: 10,
      };
    },
  },
];

const secretRows: HostileCase[] = [
  {
    name: 'a slurm env var that is not secret-named but holds a secret',
    setup: ({ dir }) => {
      files(dir, {
        'model.yml': MODEL,
        'slurm.yml': 'type: slurm\nenv_vars: {API_TOKEN: "${MYTOK}", OTHER: "${MYTOK}"}\n',
      });
      return {
        args: ['run', 'model.yml', '--backend-config', 'slurm.yml', '--dry-run'],
        env: { MYTOK: 's3cr3t-value-XYZ' },
        exit: [0],
        says: /# API_TOKEN, OTHER: from sbatch's environment, passed by name \(--export\)/,
        keep: ['model.yml', 'slurm.yml'],
      };
    },
  },
];

export const hostileCases: HostileCase[] = [
  ...tooLargeRows,
  ...secretRows,
  ...imageRows,
  ...dockerHostRows,
  ...noCommandRows,
  ...outputRows,
  ...nameRows,
];
