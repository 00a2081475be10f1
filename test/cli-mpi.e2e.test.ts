import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runModelrun } from './helpers/cli.js';
import { dockerUnavailable } from './helpers/engines.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'backends');
const SERIAL = `run_id: ${uniqueId('serial')}\ncommand: "true"\n`;
const MPI = `run_id: ${uniqueId('ranks')}\ncommand: "true"\nmpi: true\n`;
// The serial wave model's user who gave the job 4 tasks and srun: 4 copies.
const SLURM_4_TASKS =
  'type: slurm\nntasks: 4\ncpus_per_task: 1\nmem: 100M\ntime_limit: "0:05:00"\ncontainer:\n  type: apptainer\n  image: docker://busybox\n  mpiexec: srun\n';

const tree = makeTree({ 'serial.yml': SERIAL, 'mpi.yml': MPI, 'slurm.yml': SLURM_4_TASKS });
afterAll(() => tree.remove());

const WARNING = /mpiexec starts \d+ copies of the command/g;
const dryRun = (model: string, backend: string) =>
  runModelrun(['run', model, '--backend-config', backend, '--dry-run'], { cwd: tree.root });

describe('the MPI warning of a run: the backend starts several copies of the model', () => {
  it.each([
    ['docker-gpu.yml', 8, 'mpiexec', 'threads through cpu'],
    ['apptainer-gpu.yml', 4, 'mpiexec', 'threads through cpu'],
  ])(
    'run --dry-run with examples/backends/%s warns once, at the backend field, naming the model file',
    async (file, copies, field, serial) => {
      const backend = join(EXAMPLES, file);
      // The value of `mpiexec:` in the example, wherever its comments put it.
      const lines = readFileSync(backend, 'utf8').split('\n');
      const at = `${lines.findIndex((l) => l.startsWith('mpiexec:')) + 1}:10`;
      const result = await dryRun('serial.yml', backend);
      expect(result.code).toBe(0);
      expect(result.stderr.match(WARNING)).toHaveLength(1);
      expect(result.stderr).toContain(
        `warning: ${backend}:${at}  ${field}: mpiexec starts ${copies} copies of the command, but serial.yml does not say it is an MPI program: a serial or threaded model would run ${copies} times over, its copies writing the same output files; set \`mpi: true\` in serial.yml if it is an MPI program; otherwise remove mpiexec (${serial})\n`,
      );
      expect(result.stdout).not.toMatch(WARNING);
      expect(result.stdout).toContain('dry run: nothing was staged or started');
    },
  );

  it('points a Slurm job at its ntasks, where the copies come from', async () => {
    const result = await dryRun('serial.yml', 'slurm.yml');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^warning: slurm\.yml:2:9 {2}ntasks: mpiexec starts 4 copies of the command, .*otherwise remove mpiexec \(ntasks: 1, threads through cpus_per_task\)$/m,
    );
  });

  it.each([['docker-gpu.yml'], ['apptainer-gpu.yml']])(
    'says nothing when the model is an MPI program (mpi: true), for %s',
    async (file) => {
      const result = await dryRun('mpi.yml', join(EXAMPLES, file));
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('dry run: nothing was staged or started');
      expect(result.stderr).not.toMatch(/warning/);
    },
  );

  it('says nothing for a serial model on a backend without mpiexec', async () => {
    const result = await dryRun('serial.yml', join(EXAMPLES, 'apptainer.yml'));
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warning/);
  });

  it('backends validate no longer warns about mpiexec, which it cannot judge without the model', async () => {
    const examples = await runModelrun(
      [
        'backends',
        'validate',
        ...['docker-gpu.yml', 'apptainer-gpu.yml', 'slurm-apptainer.yml'].map((f) =>
          join('examples', 'backends', f),
        ),
      ],
      { cwd: REPO_ROOT },
    );
    expect(examples.code).toBe(0);
    expect(examples.stdout + examples.stderr).not.toMatch(/mpiexec/);
    const own = await runModelrun(['backends', 'validate', 'slurm.yml'], { cwd: tree.root });
    expect(own.code).toBe(0);
    expect(own.stdout + own.stderr).not.toMatch(/mpiexec|warning/);
  });
});

const docker = dockerUnavailable();
describe.skipIf(docker !== undefined)('the MPI warning of a pipeline', () => {
  if (docker !== undefined) console.warn(`skipping the pipeline MPI warning test: ${docker}`);

  // A launcher that takes modelrun's `-n 2` and starts the command once, so
  // the run itself succeeds: the warning must not change its exit code.
  const pipeline = (model: string) =>
    `model:\n${model.replace(/^/gm, '  ').trimEnd()}\nbackend:\n  type: docker\n  image: modelrun-test/busybox\n  cpu: 2\n  mpiexec: "sh -c 'shift 2; exec \\"$@\\"' launcher"\n  timeout: 1m\npostprocess: []\n`;

  it('warns at the inline backend in the pipeline file, and the run exits as it would without it', async () => {
    tree.write('serial-pipeline.yml', pipeline(SERIAL));
    tree.write('mpi-pipeline.yml', pipeline(MPI));
    const serial = await runModelrun(['pipeline', 'serial-pipeline.yml'], { cwd: tree.root });
    expect(serial.stderr).toMatch(
      /^warning: serial-pipeline\.yml:8:12 {2}backend\.mpiexec: mpiexec starts 2 copies of the command, but the model: section of serial-pipeline\.yml does not say it is an MPI program: .*set `mpi: true` in the model: section of serial-pipeline\.yml if it is an MPI program; otherwise remove mpiexec \(threads through cpu\)$/m,
    );
    expect(serial.code).toBe(0);
    const mpi = await runModelrun(['pipeline', 'mpi-pipeline.yml'], { cwd: tree.root });
    expect(mpi.stderr).not.toMatch(/warning/);
    expect(mpi.code).toBe(0);
  }, 60_000);
});
