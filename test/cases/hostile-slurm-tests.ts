import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/** Slurm configs that are valid but do what a serial model's user did not mean. */
export const hostileCases: HostileCase[] = [
  {
    name: 'run --dry-run: mpiexec srun in a 4-task job (4 copies of a serial model)',
    setup: ({ dir }) => {
      writeFileSync(
        join(dir, 'model.yml'),
        `run_id: hostile-mpi-${randomBytes(4).toString('hex')}\ncommand: "true"\n`,
      );
      writeFileSync(
        join(dir, 'slurm.yml'),
        'type: slurm\nntasks: 4\ncpus_per_task: 1\nmem: 100M\ntime_limit: "0:05:00"\ncontainer:\n  type: apptainer\n  image: docker://node:20-slim\n  mpiexec: srun\n',
      );
      return {
        args: ['run', 'model.yml', '--backend-config', 'slurm.yml', '--dry-run'],
        exit: [0],
        says: /warning: slurm\.yml:2:9 +ntasks: mpiexec starts 4 copies of the command, but model\.yml does not say it is an MPI program: .*set `mpi: true` in model\.yml if it is an MPI program; otherwise remove mpiexec \(ntasks: 1, threads through cpus_per_task\)/,
        keep: ['model.yml', 'slurm.yml'],
      };
    },
  },
];
