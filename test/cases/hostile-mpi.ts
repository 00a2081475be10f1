import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

const runId = () => `hostile-mpi-${randomBytes(4).toString('hex')}`;
const DOCKER_MPI = 'type: docker\nimage: modelrun-test/busybox\ncpu: 4\nmpiexec: mpirun\n';

/** Model files that say, or fail to say, whether the model is an MPI program. */
export const hostileCases: HostileCase[] = [
  {
    name: 'run: a model file with mpi: yes, beside a backend whose mpiexec starts 4 copies',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'model.yml'), `run_id: ${runId()}\ncommand: "true"\nmpi: yes\n`);
      writeFileSync(join(dir, 'docker.yml'), DOCKER_MPI);
      return {
        args: ['run', 'model.yml', '--backend-config', 'docker.yml', '--dry-run'],
        exit: [2],
        says: /model\.yml:3:6 +mpi: must be true or false, got "yes"/,
        keep: ['model.yml', 'docker.yml'],
      };
    },
  },
  {
    name: 'pipeline: an inline model with mpi: "true" (text), beside an mpiexec that starts 4 copies',
    setup: ({ dir }) => {
      writeFileSync(
        join(dir, 'pipeline.yml'),
        `model:\n  run_id: ${runId()}\n  command: "true"\n  mpi: "true"\nbackend:\n${DOCKER_MPI.replace(/^/gm, '  ')}`,
      );
      return {
        args: ['pipeline', 'pipeline.yml'],
        exit: [2],
        says: /pipeline\.yml:4:8 +model\.mpi: must be true or false, got "true"/,
        keep: ['pipeline.yml'],
      };
    },
  },
  {
    name: 'run --dry-run: mpiexec whose count comes from a variable modelrun cannot read',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'model.yml'), `run_id: ${runId()}\ncommand: "true"\n`);
      writeFileSync(
        join(dir, 'docker.yml'),
        'type: docker\nimage: modelrun-test/busybox\nmpiexec: mpirun -np $RANKS\n',
      );
      return {
        args: ['run', 'model.yml', '--backend-config', 'docker.yml', '--dry-run'],
        exit: [0],
        says: /dry run: nothing was staged or started/,
        keep: ['model.yml', 'docker.yml'],
      };
    },
  },
];
