import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { apptainerExecArgv } from './apptainer-exec.js';
import { dockerRunArgv } from './docker-run-argv.js';
import { engineSpec } from './engine-spec.js';
import type { ApptainerOptions, ContainerSettings, DockerRunOptions } from './settings.js';

type Settings = ContainerSettings & { docker: DockerRunOptions; apptainer: ApptainerOptions };

const ENV_FILE = '/scratch/runs/r1/.modelrun/apptainer.env';
const BASE: Settings = {
  image: 'registry.example.com/ocean/ww3:7.14',
  command: 'run-model --fast',
  runDir: '/scratch/runs/r1',
  mountPath: '/app/run',
  mounts: [],
  workdir: '/app/run',
  env: {},
  labels: {},
  docker: { remove: true, pull: 'missing' },
  apptainer: {
    binary: 'apptainer',
    cleanenv: false,
    noHome: false,
    containall: false,
    writableTmpfs: false,
    nv: false,
    rocm: false,
    envFile: ENV_FILE,
    extraArgs: [],
  },
};

/** Whether argv holds these words, one after the other. */
function holds(argv: string[], words: string[]): boolean {
  return `\0${argv.join('\0')}\0`.includes(`\0${words.join('\0')}\0`);
}

const GIB = 1024 ** 3;

/**
 * One setting and what each renderer makes of it: the fields of the Engine
 * API's create body, the words of `docker run` and those of `apptainer
 * exec`, or, for what apptainer has no flag for, a value that must not
 * appear on its line at all.
 */
const TABLE: {
  setting: string;
  settings: Partial<Settings>;
  spec: object;
  dockerRun: string[];
  apptainerExec: string[] | { absent: string };
}[] = [
  {
    setting: 'the run dir and a mount, in order',
    settings: { mounts: [{ source: '/data', target: '/in', mode: 'ro' }] },
    spec: { HostConfig: { Binds: ['/scratch/runs/r1:/app/run:rw', '/data:/in:ro'] } },
    dockerRun: ['--volume', '/scratch/runs/r1:/app/run:rw', '--volume', '/data:/in:ro'],
    apptainerExec: ['--bind', '/scratch/runs/r1:/app/run:rw', '--bind', '/data:/in:ro'],
  },
  {
    setting: 'a mount without a mode',
    settings: { mounts: [{ source: '/data', target: '/data' }] },
    spec: { HostConfig: { Binds: ['/scratch/runs/r1:/app/run:rw', '/data:/data'] } },
    dockerRun: ['--volume', '/data:/data', '--workdir'],
    apptainerExec: ['--bind', '/data:/data', '--pwd'],
  },
  {
    setting: 'a mount path',
    settings: { mountPath: '/work', workdir: '/work' },
    spec: { WorkingDir: '/work', HostConfig: { Binds: ['/scratch/runs/r1:/work:rw'] } },
    dockerRun: ['--volume', '/scratch/runs/r1:/work:rw', '--workdir', '/work'],
    apptainerExec: ['--bind', '/scratch/runs/r1:/work:rw', '--pwd', '/work'],
  },
  {
    setting: 'a working directory below the mount',
    settings: { workdir: '/app/run/case1' },
    spec: { WorkingDir: '/app/run/case1' },
    dockerRun: ['--workdir', '/app/run/case1'],
    apptainerExec: ['--pwd', '/app/run/case1'],
  },
  {
    setting: 'env, whose values never reach a command line',
    settings: { env: { MODE: 'hindcast-7f3', API_TOKEN: 'tok-5e1' } },
    spec: { Env: ['MODE=hindcast-7f3', 'API_TOKEN=tok-5e1'] },
    dockerRun: ['--env', 'MODE', '--env', 'API_TOKEN'],
    apptainerExec: ['--env-file', ENV_FILE],
  },
  {
    setting: 'cpus',
    settings: { cpus: 2 },
    spec: { HostConfig: { NanoCpus: 2e9 } },
    dockerRun: ['--cpus', '2'],
    apptainerExec: ['--cpus', '2'],
  },
  {
    setting: 'memory',
    settings: { memory: '512m' },
    spec: { HostConfig: { Memory: 512 * 1024 ** 2, MemorySwap: 512 * 1024 ** 2 } },
    dockerRun: ['--memory', String(512 * 1024 ** 2), '--memory-swap', String(512 * 1024 ** 2)],
    apptainerExec: ['--memory', '512m'],
  },
  {
    setting: 'memory in bytes',
    settings: { memory: '8388608' },
    spec: { HostConfig: { Memory: 8388608, MemorySwap: 8388608 } },
    dockerRun: ['--memory', '8388608', '--memory-swap', '8388608'],
    apptainerExec: ['--memory', '8388608'],
  },
  {
    setting: 'a user, whom apptainer cannot switch to',
    settings: { user: '1000:1001' },
    spec: { User: '1000:1001' },
    dockerRun: ['--user', '1000:1001'],
    apptainerExec: { absent: '1000:1001' },
  },
  {
    setting: 'a network, which apptainer shares with the host',
    settings: { network: 'ocean-net' },
    spec: { HostConfig: { NetworkMode: 'ocean-net' } },
    dockerRun: ['--network', 'ocean-net'],
    apptainerExec: { absent: 'ocean-net' },
  },
  {
    setting: 'labels, which apptainer has none of',
    settings: { labels: { 'modelrun.run_id': 'r1-label' } },
    spec: { Labels: { 'modelrun.run_id': 'r1-label' } },
    dockerRun: ['--label', 'modelrun.run_id=r1-label'],
    apptainerExec: { absent: 'r1-label' },
  },
  {
    setting: '/dev/shm',
    settings: { shmSize: '1g' },
    spec: { HostConfig: { ShmSize: GIB } },
    dockerRun: ['--shm-size', String(GIB)],
    apptainerExec: { absent: '--shm-size' },
  },
  {
    setting: 'GPUs by count',
    settings: { gpus: 2 },
    spec: { HostConfig: { DeviceRequests: [{ Driver: 'nvidia', Count: 2 }] } },
    dockerRun: ['--gpus', '2'],
    apptainerExec: { absent: '--gpus' },
  },
  {
    setting: 'GPUs by device id',
    settings: { gpus: [0, 'GPU-3f2a'] },
    spec: { HostConfig: { DeviceRequests: [{ DeviceIDs: ['0', 'GPU-3f2a'] }] } },
    dockerRun: ['--gpus', '"device=0,GPU-3f2a"'],
    apptainerExec: { absent: '--gpus' },
  },
];

describe('one container setting, rendered three ways', () => {
  it.each(TABLE)('$setting', ({ settings, spec, dockerRun, apptainerExec }) => {
    const all = { ...BASE, ...settings };
    expect(engineSpec(all)).toMatchObject(spec);
    expect(holds(dockerRunArgv(all), dockerRun)).toBe(true);
    const line = apptainerExecArgv(all);
    if (Array.isArray(apptainerExec)) expect(holds(line, apptainerExec)).toBe(true);
    else expect(line.join(' ')).not.toContain(apptainerExec.absent);
  });

  it('leaves out of all three the limits and devices the settings do not ask for', () => {
    const host = engineSpec(BASE).HostConfig;
    for (const key of ['NanoCpus', 'Memory', 'MemorySwap', 'ShmSize', 'DeviceRequests'])
      expect(host).not.toHaveProperty(key);
    for (const flag of ['--cpus', '--memory', '--shm-size', '--gpus']) {
      expect(dockerRunArgv(BASE)).not.toContain(flag);
      expect(apptainerExecArgv(BASE)).not.toContain(flag);
    }
  });

  it('ends every line with the image and the command in sh -c', () => {
    const tail = [BASE.image, '/bin/sh', '-c', BASE.command];
    expect(engineSpec(BASE)).toMatchObject({ Image: BASE.image, Cmd: tail.slice(1) });
    expect(dockerRunArgv(BASE).slice(-4)).toEqual(tail);
    expect(apptainerExecArgv(BASE).slice(-4)).toEqual(tail);
  });

  it('leaves user and network to the engine when the settings have none', () => {
    expect(engineSpec(BASE)).toMatchObject({ User: '', HostConfig: { NetworkMode: 'default' } });
    expect(dockerRunArgv(BASE)).not.toContain('--user');
    expect(dockerRunArgv(BASE)).not.toContain('--network');
  });

  it('puts the MPI launcher of apptainer settings outside the container', () => {
    const line = apptainerExecArgv({
      ...BASE,
      apptainer: { ...BASE.apptainer, mpi: { launcher: 'srun --mpi=pmix', processes: 4 } },
    });
    expect(line.slice(0, 5)).toEqual(['srun', '--mpi=pmix', '-n', '4', 'apptainer']);
  });

  it('refuses, for apptainer alone, a run dir whose path --bind would split', () => {
    const settings = { ...BASE, runDir: '/scratch/a,b' };
    expect(() => apptainerExecArgv(settings)).toThrow(ConfigError);
    expect(engineSpec(settings).HostConfig.Binds[0]).toBe('/scratch/a,b:/app/run:rw');
    expect(holds(dockerRunArgv(settings), ['--volume', '/scratch/a,b:/app/run:rw'])).toBe(true);
  });
});
