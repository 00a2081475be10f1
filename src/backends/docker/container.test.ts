import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { VERSION } from '../../package-info.js';
import { type ContainerSpec, maskedSpec } from '../containers/engine-spec.js';
import type { RunJob } from '../contract.js';
import { type DockerConfig, dockerConfigSchema } from './config.js';
import { buildContainerSpec } from './container.js';

const tree = makeTree({ 'data/': '', 'work/': '' });
afterAll(() => tree.remove());

const IDENTITY = { uid: 1234, gid: 5678 };
const JOB: RunJob = {
  runId: '20240101-120000-abcd',
  stagingDir: tree.path('runs', 'staging'),
  modelCommand: 'python wave.py',
};

/** A config as the loader would hand it over: parsed, with every default filled in. */
function config(fields: Record<string, unknown> = {}): DockerConfig {
  return dockerConfigSchema(diskPathContext(tree.root)).parse({
    type: 'docker',
    image: 'busybox:1.36',
    ...fields,
  });
}

function spec(fields: Record<string, unknown> = {}, job: RunJob = JOB): ContainerSpec {
  return buildContainerSpec(config(fields), job, 'busybox:1.36', IDENTITY);
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

describe('buildContainerSpec', () => {
  it.each<{ field: string; fields: Record<string, unknown>; setting: unknown }>([
    { field: 'cpu', fields: { cpu: 4 }, setting: { NanoCpus: 4e9 } },
    { field: 'cpu 1', fields: { cpu: 1 }, setting: { NanoCpus: 1e9 } },
    // MemorySwap equal to Memory: no hidden swap on top of the limit.
    {
      field: 'memory 512m',
      fields: { memory: '512m' },
      setting: { Memory: 512 * MIB, MemorySwap: 512 * MIB },
    },
    {
      field: 'memory 2g',
      fields: { memory: '2g' },
      setting: { Memory: 2 * GIB, MemorySwap: 2 * GIB },
    },
    {
      field: 'memory in bytes',
      fields: { memory: '8388608' },
      setting: { Memory: 8 * MIB, MemorySwap: 8 * MIB },
    },
    { field: 'shm_size', fields: { shm_size: '1g' }, setting: { ShmSize: GIB } },
    { field: 'shm_size 256k', fields: { shm_size: '256k' }, setting: { ShmSize: 256 * 1024 } },
    { field: 'network', fields: { network: 'none' }, setting: { NetworkMode: 'none' } },
    {
      field: 'network (named)',
      fields: { network: 'ocean-net' },
      setting: { NetworkMode: 'ocean-net' },
    },
    {
      field: 'gpus all',
      fields: { gpus: 'all' },
      setting: { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] },
    },
    {
      field: 'gpus count',
      fields: { gpus: 2 },
      setting: { DeviceRequests: [{ Driver: 'nvidia', Count: 2, Capabilities: [['gpu']] }] },
    },
    {
      field: 'gpus device ids',
      fields: { gpus: [0, 'GPU-3f2a'] },
      setting: {
        DeviceRequests: [
          { Driver: 'nvidia', DeviceIDs: ['0', 'GPU-3f2a'], Capabilities: [['gpu']] },
        ],
      },
    },
  ])('$field → HostConfig $setting', ({ fields, setting }) => {
    // That setting and nothing else: a request for device ids gives no Count, and so on.
    expect(spec(fields).HostConfig).toEqual({ ...spec().HostConfig, ...(setting as object) });
  });

  it('leaves out the limits and devices the config does not ask for', () => {
    const host = spec().HostConfig;
    for (const key of ['NanoCpus', 'Memory', 'MemorySwap', 'ShmSize', 'DeviceRequests']) {
      expect(host).not.toHaveProperty(key);
    }
    expect(host.NetworkMode).toBe('bridge');
  });

  it.each<{ name: string; fields: Record<string, unknown>; binds: string[]; workdir: string }>([
    {
      name: 'the staging dir at /app/run by default',
      fields: {},
      binds: [`${JOB.stagingDir}:/app/run:rw`],
      workdir: '/app/run',
    },
    {
      name: 'the staging dir at a custom mount_path',
      fields: { mount_path: '/work' },
      binds: [`${JOB.stagingDir}:/work:rw`],
      workdir: '/work',
    },
    {
      name: 'working_dir instead of the staging dir',
      fields: { working_dir: 'work' },
      binds: [`${tree.path('work')}:/app/run:rw`],
      workdir: '/app/run',
    },
    {
      name: 'a volume without a mode',
      fields: { volumes: ['data:/data'] },
      binds: [`${JOB.stagingDir}:/app/run:rw`, `${tree.path('data')}:/data`],
      workdir: '/app/run',
    },
    {
      name: 'volumes with modes, in order',
      fields: { volumes: ['data:/data:ro', `${tree.path('work')}:/scratch:rw,Z`] },
      binds: [
        `${JOB.stagingDir}:/app/run:rw`,
        `${tree.path('data')}:/data:ro`,
        `${tree.path('work')}:/scratch:rw,Z`,
      ],
      workdir: '/app/run',
    },
  ])('binds $name', ({ fields, binds, workdir }) => {
    const result = spec(fields);
    expect(result.HostConfig.Binds).toEqual(binds);
    expect(result.WorkingDir).toBe(workdir);
  });

  it.each<{ name: string; fields: Record<string, unknown>; env: string[] }>([
    { name: 'no env_vars', fields: {}, env: [] },
    {
      name: 'env_vars, numbers as text',
      fields: { env_vars: { OMP_NUM_THREADS: 4, MODE: 'hindcast', DEBUG: false } },
      env: ['OMP_NUM_THREADS=4', 'MODE=hindcast', 'DEBUG=false'],
    },
    { name: 'a value holding =', fields: { env_vars: { OPTS: 'a=b' } }, env: ['OPTS=a=b'] },
  ])('Env from $name', ({ fields, env }) => {
    expect(spec(fields).Env).toEqual(env);
  });

  it.each([
    { fields: {}, user: '1234:5678' },
    { fields: { user: '1000' }, user: '1000' },
    { fields: { user: 'model:staff' }, user: 'model:staff' },
    { fields: { user: 'root' }, user: 'root' },
  ])('runs as $user given $fields', ({ fields, user }) => {
    expect(spec(fields).User).toBe(user);
  });

  it('labels the container with the run id, the staging dir and the version', () => {
    expect(spec().Labels).toEqual({
      'modelrun.run_id': JOB.runId,
      'modelrun.staging_dir': JOB.stagingDir,
      'modelrun.version': VERSION,
    });
  });

  it('runs under an init process, without a TTY or stdin, and is never removed by the engine', () => {
    const result = spec();
    expect(result).toMatchObject({
      Image: 'busybox:1.36',
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
    });
    expect(result.HostConfig.Init).toBe(true);
    expect(result.HostConfig.AutoRemove).toBe(false);
  });

  it.each<{
    name: string;
    fields: Record<string, unknown>;
    job?: Partial<RunJob>;
    command: string;
  }>([
    { name: "the model's command", fields: {}, command: 'python wave.py' },
    {
      name: 'executable over the model command',
      fields: { executable: './ww3_shel' },
      command: './ww3_shel',
    },
    {
      name: 'executable without a model command',
      fields: { executable: './ww3_shel' },
      job: { modelCommand: undefined },
      command: './ww3_shel',
    },
    {
      name: 'mpiexec with cpu',
      fields: { mpiexec: 'mpirun', cpu: 4 },
      command: 'mpirun -n 4 python wave.py',
    },
    {
      name: 'mpiexec around executable',
      fields: { mpiexec: 'mpiexec', cpu: 2, executable: './ww3_shel' },
      command: 'mpiexec -n 2 ./ww3_shel',
    },
    {
      name: 'mpiexec without cpu',
      fields: { mpiexec: 'mpirun' },
      command: 'mpirun python wave.py',
    },
    ...['mpirun -n 8', 'mpirun -np 8', 'mpirun --np=8', 'srun --ntasks=8'].map((mpiexec) => ({
      name: `${mpiexec}, which gives its own count`,
      fields: { mpiexec, cpu: 4 },
      command: `${mpiexec} python wave.py`,
    })),
  ])('Cmd runs $name in sh -c', ({ fields, job, command }) => {
    expect(spec(fields, { ...JOB, ...job }).Cmd).toEqual(['/bin/sh', '-c', command]);
  });

  it('fails as a config error when there is no command at all', () => {
    expect(() => spec({}, { ...JOB, modelCommand: undefined })).toThrow(
      'there is no command to run',
    );
  });
});

describe('maskedSpec', () => {
  it('masks the values of secret-named variables and keeps the rest', () => {
    const original = spec({
      env_vars: { API_TOKEN: 'tok-123', DB_PASSWORD: 'p=w', aws_secret_key: 's', MODE: 'x=y' },
    });
    const masked = maskedSpec(original);
    expect(masked.Env).toEqual([
      'API_TOKEN=***',
      'DB_PASSWORD=***',
      'aws_secret_key=***',
      'MODE=x=y',
    ]);
    expect({ ...masked, Env: original.Env }).toEqual(original);
  });

  it('leaves the spec it was given untouched', () => {
    const original = spec({ env_vars: { API_TOKEN: 'tok-123' } });
    maskedSpec(original);
    expect(original.Env).toEqual(['API_TOKEN=tok-123']);
  });
});
