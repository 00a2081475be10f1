import { describe, expect, it } from 'vitest';
import type { RunJob } from '../contract.js';
import type { ApptainerSettingsFields } from './apptainer-settings.js';
import { apptainerSettings } from './apptainer-settings.js';
import type { DockerContainerFields } from './docker-fields.js';
import { dockerSettings } from './docker-settings.js';
import { LABELS } from './labels.js';

const JOB: RunJob = {
  runId: 'r-8d2f',
  stagingDir: '/scratch/runs/r-8d2f',
  modelCommand: 'run-model',
};

/** Fields as a parsed docker block has them, defaults filled in. */
const DOCKER: DockerContainerFields = {
  mount_path: '/app/run',
  remove_container: true,
  network: 'bridge',
  pull_policy: 'missing',
};
/** Fields as a parsed apptainer block has them, defaults filled in. */
const APPTAINER: ApptainerSettingsFields = {
  image: 'docker://busybox',
  binary: 'apptainer',
  cleanenv: true,
  no_home: true,
  mount_path: '/app/run',
  containall: false,
  writable_tmpfs: false,
  nv: false,
  rocm: false,
};

/** The settings both engines render the same way. */
function shared(
  settings: ReturnType<typeof dockerSettings> | ReturnType<typeof apptainerSettings>,
) {
  const { image, command, runDir, mountPath, mounts, workdir, cpus, memory, labels } = settings;
  return { image, command, runDir, mountPath, mounts, workdir, cpus, memory, labels };
}

describe('container settings from a docker or an apptainer config', () => {
  it('are the same for the fields the two configs share', () => {
    const fields = {
      working_dir: '/scratch/work',
      mount_path: '/work',
      cpu: 2,
      memory: '1g',
    };
    const mounts = [{ source: '/data', target: '/in', mode: 'ro' }];
    const docker = dockerSettings({ ...DOCKER, ...fields, volumes: mounts }, JOB, 'img');
    const apptainer = apptainerSettings({ ...APPTAINER, ...fields, binds: mounts }, JOB, 'img');
    expect(shared(docker)).toEqual(shared(apptainer));
    expect(shared(docker)).toMatchObject({ runDir: '/scratch/work', workdir: '/work', cpus: 2 });
  });

  it('label the container with its run, whichever engine runs it', () => {
    for (const { labels } of [
      dockerSettings(DOCKER, JOB, 'img'),
      apptainerSettings(APPTAINER, JOB, 'img'),
    ]) {
      expect(labels).toMatchObject({
        [LABELS.runId]: JOB.runId,
        [LABELS.stagingDir]: JOB.stagingDir,
      });
    }
  });

  it("run docker's MPI launcher inside the container, and apptainer's outside it", () => {
    const mpi = { mpiexec: 'mpirun', cpu: 4 };
    expect(dockerSettings({ ...DOCKER, ...mpi }, JOB, 'img')).toMatchObject({
      command: 'mpirun -n 4 run-model',
      cpus: 4,
    });
    const apptainer = apptainerSettings({ ...APPTAINER, ...mpi }, JOB, 'img');
    expect(apptainer.command).toBe('run-model');
    // cpu is the number of ranks then, not a limit on each.
    expect(apptainer.cpus).toBeUndefined();
    expect(apptainer.apptainer.mpi).toEqual({ launcher: 'mpirun', processes: 4 });
  });

  it('run docker as the invoking user unless the config names one', () => {
    const identity = { uid: 4321, gid: 8765 };
    expect(dockerSettings(DOCKER, JOB, 'img', { identity }).user).toBe('4321:8765');
    expect(dockerSettings({ ...DOCKER, user: 'root' }, JOB, 'img', { identity }).user).toBe('root');
  });

  it("give apptainer's pwd as the working directory, the mount path without one", () => {
    expect(apptainerSettings({ ...APPTAINER, pwd: '/opt' }, JOB, 'img').workdir).toBe('/opt');
    expect(apptainerSettings(APPTAINER, JOB, 'img').workdir).toBe('/app/run');
  });

  it('name the backend field in the hint when there is no command', () => {
    const job = { ...JOB, modelCommand: undefined };
    expect(() => dockerSettings(DOCKER, job, 'img', { ownField: '`executable:` here' })).toThrow(
      expect.objectContaining({ hint: 'set `command:` in the model file, or `executable:` here' }),
    );
  });
});
