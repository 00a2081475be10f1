import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { shellQuote } from '../../exec/shell.js';
import { envFileText } from '../containers/apptainer-env.js';
import type { RunJob } from '../contract.js';
import type { DockerContainerConfig } from './config.js';
import { slurmConfigSchema } from './config.js';
import {
  apptainerFileEnv,
  containerAsApptainer,
  containerJobCommand,
  dockerJobLimits,
  jobContainers,
  slurmMemoryBytes,
} from './container.js';

const tree = makeTree({ 'data/': '' });
afterAll(() => tree.remove());
const JOB: RunJob = { runId: 'r1', stagingDir: '/scratch/runs/r1', modelCommand: 'node wave.mjs' };
const BUSYBOX = { type: 'docker', image: 'busybox' };
const config = (fields: Record<string, unknown>) =>
  slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...fields });
const limits = (fields: Record<string, unknown>, container: Record<string, unknown> = {}) => {
  const c = config({ ...fields, container: { ...BUSYBOX, ...container } });
  return dockerJobLimits(c, c.container as DockerContainerConfig);
};
const MIB = 1024 ** 2;

describe("a docker container's limits in a Slurm job", () => {
  it.each([
    ['500M', 500 * MIB],
    ['500m', 500 * MIB],
    ['4096', 4096 * MIB],
    ['2G', 2048 * MIB],
    ['1T', 1024 ** 4],
    ['64K', 64 * 1024],
  ])('reads the Slurm size %s as %i bytes', (size, bytes) => {
    expect(slurmMemoryBytes(size)).toBe(bytes);
  });

  it.each([
    [
      'mem and cpus_per_task',
      { mem: '500M', cpus_per_task: 1 },
      {},
      { cpus: 1, memoryBytes: 500 * MIB },
    ],
    [
      'mem_per_cpu × cpus_per_task',
      { mem_per_cpu: '200M', cpus_per_task: 2 },
      {},
      { cpus: 2, memoryBytes: 400 * MIB },
    ],
    ['mem_per_cpu alone, for one CPU', { mem_per_cpu: '300M' }, {}, { memoryBytes: 300 * MIB }],
    [
      "the container's own memory over the job's",
      { mem: '500M', cpus_per_task: 2 },
      { memory: '100m' },
      { cpus: 2, memoryBytes: 100 * MIB },
    ],
    [
      "the container's own cpu over the job's",
      { mem: '500M', cpus_per_task: 2 },
      { cpu: 1 },
      { cpus: 1, memoryBytes: 500 * MIB },
    ],
    [
      'nothing from several tasks, whose share of the node is unknown',
      { ntasks: 4, mem: '4G', cpus_per_task: 1 },
      {},
      {},
    ],
    [
      "only the container's own with several tasks",
      { ntasks: 4, mem: '4G' },
      { memory: '1g' },
      { memoryBytes: 1024 * MIB },
    ],
    ['no memory limit under the engine minimum', { mem: '1M' }, {}, {}],
    ['nothing when neither sets a limit', {}, {}, {}],
  ])('takes %s', (_, fields, container, expected) => {
    expect(limits(fields, container)).toEqual(expected);
  });

  it('puts them on the docker run line', () => {
    const text = containerJobCommand(
      config({ mem: '500M', cpus_per_task: 1, container: BUSYBOX }),
      JOB,
      undefined,
    );
    expect(text).toContain(' --cpus 1 --memory 524288000 --memory-swap 524288000 ');
  });
});

describe('a docker container in a Slurm job', () => {
  const docker = (fields: Record<string, unknown> = {}, container = {}) =>
    containerJobCommand(
      config({ ...fields, container: { ...BUSYBOX, ...container } }),
      JOB,
      undefined,
    ) ?? '';

  it('is named, labelled with the run and the job, and run in the background under a TERM trap', () => {
    const lines = docker().split('\n');
    expect(lines).toContain(
      `modelrun_container='modelrun-r1-'"$(printf %04x%04x $RANDOM $RANDOM)"`,
    );
    expect(lines).toContain(`trap 'modelrun_stop; trap - TERM; kill -TERM $BASHPID' TERM`);
    const run = lines.find((line) => line.startsWith('docker run ')) ?? '';
    expect(run).toMatch(
      /^docker run --name "\$modelrun_container" --label "modelrun\.slurm_job_id=\$\{MODELRUN_SLURM_TASK:-\$SLURM_JOB_ID\}" --rm --init --label modelrun\.run_id=r1 --label modelrun\.staging_dir=\/scratch\/runs\/r1 --label modelrun\.version=\S+ .* &$/,
    );
    expect(lines.at(-1)).toBe('wait $!');
  });

  it('takes env_vars by name, so that no value is on its command line', () => {
    const text = docker({ env_vars: { API_TOKEN: 'tok-5f0c9e21', MODE: 'fast' } });
    expect(text).toContain(' --env API_TOKEN --env MODE ');
    expect(text).not.toContain('tok-5f0c9e21');
    expect(text).not.toContain('fast');
    expect(text).not.toContain('--env-file');
  });

  it('is only stopped, not removed, when the config keeps it', () => {
    expect(docker({}, { remove_container: false })).not.toContain('docker rm');
    expect(docker({}, { remove_container: false })).not.toContain('--rm');
  });

  it('is handed to the guardian by the label that carries the job id', () => {
    const c = config({ container: BUSYBOX });
    expect(jobContainers(c, '42', { DOCKER_HOST: 'tcp://node:2375' })).toEqual({
      containers: { engine: 'tcp://node:2375', label: 'modelrun.slurm_job_id=42', remove: true },
    });
    expect(jobContainers(c, '42', {}).containers?.engine).toBe('unix:///var/run/docker.sock');
    expect(jobContainers(config({}), '42', {})).toEqual({});
  });

  it('on TERM, stops and removes its container, then ends by that signal', async () => {
    const dir = makeTree({
      'bin/docker': [
        '#!/bin/sh',
        'echo "$*" >> "$CALLS"',
        // As the real client with its signal proxy: it lives on until its container has stopped.
        'if [ "$1" = run ]; then trap "" TERM; while [ ! -e "$CALLS.stopped" ]; do sleep 0.05; done; fi',
        'if [ "$1" = stop ]; then touch "$CALLS.stopped"; fi',
      ].join('\n'),
    });
    try {
      chmodSync(dir.path('bin', 'docker'), 0o755);
      const calls = dir.path('calls');
      const script = docker({ env_vars: { MODE: 'x' } });
      const bash = spawn('bash', ['-c', script], {
        env: { PATH: `${dir.path('bin')}:/usr/bin:/bin`, CALLS: calls, SLURM_JOB_ID: '77' },
        stdio: 'ignore',
      });
      const ended = new Promise<NodeJS.Signals | null>((resolve) =>
        bash.on('exit', (_, signal) => resolve(signal)),
      );
      for (let i = 0; i < 200 && !readFileSync(calls, { flag: 'a+' }).includes('run'); i++)
        await sleep(10);
      bash.kill('SIGTERM');
      expect(await ended).toBe('SIGTERM');
      const [run, stop, rm] = readFileSync(calls, 'utf8').trim().split('\n');
      const name = /--name (modelrun-r1-[0-9a-f]{8}) --label modelrun\.slurm_job_id=77 /.exec(
        run ?? '',
      )?.[1];
      expect(name).toBeDefined();
      expect(stop).toBe(`stop --time 2 ${name}`);
      expect(rm).toBe(`rm --force ${name}`);
    } finally {
      dir.remove();
    }
  });
});

describe('an apptainer container in a Slurm job', () => {
  const apptainer = (binary = 'apptainer') =>
    config({
      env_vars: { API_TOKEN: 'tok-5f0c9e21', MODE: 'fast', PYTHONNOUSERSITE: '0' },
      container: { type: 'apptainer', image: 'docker://busybox', binary },
    });

  it('takes env_vars by name from the job, exported before the command, with no value in the script', () => {
    const text = containerJobCommand(apptainer(), JOB, '/cache/img.sif') ?? '';
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'export APPTAINERENV_API_TOKEN="$API_TOKEN"',
      'export APPTAINERENV_MODE="$MODE"',
      'export APPTAINERENV_PYTHONNOUSERSITE="$PYTHONNOUSERSITE"',
    ]);
    expect(lines[3]).toMatch(/^apptainer exec .* \/cache\/img\.sif \/bin\/sh -c 'node wave\.mjs'$/);
    expect(text).not.toContain('tok-5f0c9e21');
  });

  it('names them for singularity with its own prefix', () => {
    expect(containerJobCommand(apptainer('singularity'), JOB, '/i.sif')).toContain(
      'export SINGULARITYENV_MODE="$MODE"',
    );
  });

  it('keeps only its own defaults in the env file, none of env_vars', () => {
    expect(
      envFileText(
        apptainerFileEnv(
          containerAsApptainer(
            config({
              env_vars: { API_TOKEN: 'tok-5f0c9e21' },
              container: { type: 'apptainer', image: 'docker://busybox' },
            }),
          ) ?? ({} as never),
        ),
      ),
    ).toBe("PYTHONNOUSERSITE='1'\n");
    expect(apptainerFileEnv(containerAsApptainer(apptainer()) ?? ({} as never))).toEqual({});
  });

  it('passes a value that the job exports to the container unchanged', () => {
    const value = `it's "quoted" $HOME \\ and\nnewline`;
    const c = config({
      env_vars: { TRICKY: value },
      container: { type: 'apptainer', image: 'docker://busybox' },
    });
    const [exported] = (containerJobCommand(c, JOB, '/i.sif') ?? '').split('\n');
    const script = `export TRICKY=${shellQuote(value)}\n${exported}\nprintf %s "$APPTAINERENV_TRICKY"`;
    expect(execFileSync('bash', ['-c', script], { encoding: 'utf8' })).toBe(value);
  });
});
