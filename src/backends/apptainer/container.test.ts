import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { ConfigError } from '../../errors.js';
import { containerEnv } from '../containers/apptainer-env.js';
import { buildApptainerArgv } from '../containers/apptainer-exec.js';
import type { RunJob } from '../contract.js';
import { type ApptainerConfig, apptainerConfigSchema } from './config.js';

const tree = makeTree({ 'data/': '', 'work/': '', 'scratch/': '' });
afterAll(() => tree.remove());

const JOB: RunJob = {
  runId: '20240101-120000-abcd',
  stagingDir: tree.path('simulations', 'r1'),
  modelCommand: 'python wave.py',
};
const IMAGE = '/cache/docker_busybox-0123456789ab.sif';
const STAGING = JOB.stagingDir;
const ENV_FILE = `${STAGING}/.modelrun/apptainer.env`;
const DATA = tree.path('data');
const WORK = tree.path('work');

/** The staging bind, the working directory and the env file, as they are by default. */
const STAGE = ['--bind', `${STAGING}:/app/run:rw`, '--pwd', '/app/run', '--env-file', ENV_FILE];
/** The image and the model's command, always last. */
const TAIL = [IMAGE, '/bin/sh', '-c', 'python wave.py'];

/** A config as the loader would hand it over: parsed, with every default filled in. */
function config(fields: Record<string, unknown> = {}): ApptainerConfig {
  return apptainerConfigSchema(diskPathContext(tree.root)).parse({
    type: 'apptainer',
    image: 'docker://busybox',
    ...fields,
  });
}

describe('buildApptainerArgv', () => {
  it.each<{ name: string; fields: Record<string, unknown>; argv: string[] }>([
    {
      name: 'the defaults: clean env, no home, the staging dir at /app/run',
      fields: {},
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', ...STAGE, ...TAIL],
    },
    {
      name: 'cleanenv false',
      fields: { cleanenv: false },
      argv: ['apptainer', 'exec', '--no-home', ...STAGE, ...TAIL],
    },
    {
      name: 'no_home false',
      fields: { no_home: false },
      argv: ['apptainer', 'exec', '--cleanenv', ...STAGE, ...TAIL],
    },
    {
      name: 'cleanenv and no_home false',
      fields: { cleanenv: false, no_home: false },
      argv: ['apptainer', 'exec', ...STAGE, ...TAIL],
    },
    {
      name: 'home, which replaces --no-home',
      fields: { home: '/scratch/me/home:/home/me' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--home',
        '/scratch/me/home:/home/me',
        ...STAGE,
        ...TAIL,
      ],
    },
    {
      name: 'home with no_home false',
      fields: { home: '/scratch/me/home', no_home: false },
      argv: ['apptainer', 'exec', '--cleanenv', '--home', '/scratch/me/home', ...STAGE, ...TAIL],
    },
    {
      name: 'containall',
      fields: { containall: true },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', '--containall', ...STAGE, ...TAIL],
    },
    {
      name: 'writable_tmpfs',
      fields: { writable_tmpfs: true },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', '--writable-tmpfs', ...STAGE, ...TAIL],
    },
    {
      name: 'nv',
      fields: { nv: true },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', '--nv', ...STAGE, ...TAIL],
    },
    {
      name: 'rocm',
      fields: { rocm: true },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', '--rocm', ...STAGE, ...TAIL],
    },
    {
      name: 'every isolation and device flag, in a fixed order',
      fields: { rocm: true, nv: true, writable_tmpfs: true, containall: true },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--containall',
        '--writable-tmpfs',
        '--nv',
        '--rocm',
        ...STAGE,
        ...TAIL,
      ],
    },
    {
      name: 'a bind without dst, at the same path inside',
      fields: { binds: ['data'] },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${STAGING}:/app/run:rw`,
        '--bind',
        `${DATA}:${DATA}`,
        '--pwd',
        '/app/run',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      name: 'binds with dst, with and without a mode, in order',
      fields: { binds: ['data:/data:ro', `${WORK}:/scratch`, 'scratch:/tmp/s:rw'] },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${STAGING}:/app/run:rw`,
        '--bind',
        `${DATA}:/data:ro`,
        '--bind',
        `${WORK}:/scratch`,
        '--bind',
        `${tree.path('scratch')}:/tmp/s:rw`,
        '--pwd',
        '/app/run',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      name: 'pwd, with the staging dir still at /app/run',
      fields: { pwd: '/opt/model' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${STAGING}:/app/run:rw`,
        '--pwd',
        '/opt/model',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      name: 'mount_path, which the model also runs in',
      fields: { mount_path: '/work' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${STAGING}:/work:rw`,
        '--pwd',
        '/work',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      name: 'mount_path and pwd',
      fields: { mount_path: '/work', pwd: '/work/case1' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${STAGING}:/work:rw`,
        '--pwd',
        '/work/case1',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      // The env file stays in the staging dir: apptainer reads it on the host.
      name: 'working_dir bound instead of the staging dir',
      fields: { working_dir: 'work' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        '--bind',
        `${WORK}:/app/run:rw`,
        '--pwd',
        '/app/run',
        '--env-file',
        ENV_FILE,
        ...TAIL,
      ],
    },
    {
      name: 'cpu',
      fields: { cpu: 4 },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', ...STAGE, '--cpus', '4', ...TAIL],
    },
    {
      name: 'memory',
      fields: { memory: '2g' },
      argv: ['apptainer', 'exec', '--cleanenv', '--no-home', ...STAGE, '--memory', '2g', ...TAIL],
    },
    {
      name: 'cpu and memory',
      fields: { memory: '512m', cpu: 2 },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        '--cpus',
        '2',
        '--memory',
        '512m',
        ...TAIL,
      ],
    },
    {
      name: 'extra_args, as they are, right before the image',
      fields: { extra_args: ['--fakeroot', '--net', '--network=none'], cpu: 1 },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        '--cpus',
        '1',
        '--fakeroot',
        '--net',
        '--network=none',
        ...TAIL,
      ],
    },
    {
      name: "executable, which replaces the model's command",
      fields: { executable: '/opt/model/bin/run --fast' },
      argv: [
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        IMAGE,
        '/bin/sh',
        '-c',
        '/opt/model/bin/run --fast',
      ],
    },
    {
      name: 'mpiexec with cpu: the launcher outside, one container per rank',
      fields: { mpiexec: 'srun', cpu: 4 },
      argv: ['srun', '-n', '4', 'apptainer', 'exec', '--cleanenv', '--no-home', ...STAGE, ...TAIL],
    },
    {
      name: 'mpiexec with its own process count, which cpu does not override',
      fields: { mpiexec: 'mpirun -np 8', cpu: 4 },
      argv: [
        'mpirun',
        '-np',
        '8',
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        ...TAIL,
      ],
    },
    {
      name: 'mpiexec with options, without cpu',
      fields: { mpiexec: 'srun --mpi=pmix' },
      argv: [
        'srun',
        '--mpi=pmix',
        'apptainer',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        ...TAIL,
      ],
    },
    {
      name: 'binary singularity',
      fields: { binary: 'singularity' },
      argv: ['singularity', 'exec', '--cleanenv', '--no-home', ...STAGE, ...TAIL],
    },
    {
      name: 'binary singularity under mpiexec',
      fields: { binary: 'singularity', mpiexec: 'mpiexec', cpu: 2 },
      argv: [
        'mpiexec',
        '-n',
        '2',
        'singularity',
        'exec',
        '--cleanenv',
        '--no-home',
        ...STAGE,
        ...TAIL,
      ],
    },
    {
      name: 'everything at once',
      fields: {
        binary: 'singularity',
        mpiexec: 'srun',
        cpu: 8,
        memory: '4g',
        cleanenv: false,
        home: '/scratch/me/home:/home/me',
        containall: true,
        writable_tmpfs: true,
        nv: true,
        rocm: true,
        binds: ['data:/data:ro'],
        mount_path: '/work',
        pwd: '/work/out',
        working_dir: 'work',
        extra_args: ['--fakeroot'],
        executable: 'run-model',
      },
      argv: [
        'srun',
        '-n',
        '8',
        'singularity',
        'exec',
        '--home',
        '/scratch/me/home:/home/me',
        '--containall',
        '--writable-tmpfs',
        '--nv',
        '--rocm',
        '--bind',
        `${WORK}:/work:rw`,
        '--bind',
        `${DATA}:/data:ro`,
        '--pwd',
        '/work/out',
        '--env-file',
        ENV_FILE,
        '--memory',
        '4g',
        '--fakeroot',
        IMAGE,
        '/bin/sh',
        '-c',
        'run-model',
      ],
    },
  ])('$name', ({ fields, argv }) => {
    expect(buildApptainerArgv(config(fields), JOB, IMAGE)).toEqual(argv);
  });

  it('passes a local image as it is given', () => {
    const sif = tree.write('images/model.sif', 'not really a SIF');
    const parsed = config({ image: 'images/model.sif' });
    expect(buildApptainerArgv(parsed, JOB, sif)).toEqual([
      'apptainer',
      'exec',
      '--cleanenv',
      '--no-home',
      ...STAGE,
      sif,
      '/bin/sh',
      '-c',
      'python wave.py',
    ]);
  });

  it('never puts an env value on the command line', () => {
    const argv = buildApptainerArgv(
      config({ env_vars: { API_TOKEN: 'tok-8c1e5d', MODE: 'hindcast-mode' } }),
      JOB,
      IMAGE,
    );
    expect(argv).toEqual(['apptainer', 'exec', '--cleanenv', '--no-home', ...STAGE, ...TAIL]);
  });

  it('fails as a config error when neither the model nor the backend gives a command', () => {
    expect(() => buildApptainerArgv(config(), { ...JOB, modelCommand: undefined }, IMAGE)).toThrow(
      ConfigError,
    );
  });
});

describe('containerEnv', () => {
  it.each<{ name: string; fields: Record<string, unknown>; env: Record<string, string> }>([
    { name: 'PYTHONNOUSERSITE=1 by default', fields: {}, env: { PYTHONNOUSERSITE: '1' } },
    {
      name: 'env_vars next to it, as text',
      fields: { env_vars: { OMP_NUM_THREADS: 4, MODE: 'hindcast' } },
      env: { PYTHONNOUSERSITE: '1', OMP_NUM_THREADS: '4', MODE: 'hindcast' },
    },
    {
      name: 'PYTHONNOUSERSITE overridden by env_vars',
      fields: { env_vars: { PYTHONNOUSERSITE: '' } },
      env: { PYTHONNOUSERSITE: '' },
    },
  ])('$name', ({ fields, env }) => {
    expect(containerEnv(config(fields))).toEqual(env);
  });
});
