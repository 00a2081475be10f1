import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/** Slurm configs that are valid but do what a serial model's user did not mean. */
export const hostileCases: HostileCase[] = [
  {
    name: 'backends validate: mpiexec srun in a 4-task job (4 copies of a serial model)',
    setup: ({ dir }) => {
      writeFileSync(
        join(dir, 'slurm.yml'),
        'type: slurm\nntasks: 4\ncontainer:\n  type: apptainer\n  image: docker://node:20-slim\n  mpiexec: srun\n',
      );
      return {
        args: ['backends', 'validate', 'slurm.yml'],
        exit: [0],
        says: /warning slurm\.yml:6:\d+ +container\.mpiexec: mpiexec starts 4 copies of the command: right for an MPI program, .*remove mpiexec: set ntasks to 1 and give it threads with cpus_per_task/,
        keep: ['slurm.yml'],
      };
    },
  },
];
