import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Hostile time limits: values that read well but mean something else, such
 * as a timeout past what one timer holds, or one Slurm would never reach.
 */

function backend(text: string, run: Omit<HostileRun, 'args'> = {}) {
  return ({ dir }: HostilePaths): HostileRun => {
    writeFileSync(join(dir, 'backend.yml'), text);
    return { args: ['backends', 'validate', 'backend.yml'], keep: ['backend.yml'], ...run };
  };
}

export const hostileCases: HostileCase[] = [
  {
    name: 'a slurm time_limit of zero, which Slurm reads as no limit, beside a timeout',
    setup: backend('type: slurm\ntime_limit: "00:00:00"\ntimeout: 2h\n', {
      exit: [1],
      says: /backend\.yml:2:\d+ +time_limit: cannot be zero: to Slurm a time limit of 0 means none/,
    }),
  },
  {
    name: 'a slurm time_limit copied from `#SBATCH -t 30`, a bare number',
    setup: backend('type: slurm\ntime_limit: 30\n', {
      exit: [1],
      says: /time_limit: must be text: sbatch reads a bare 30 as 30 minutes, which is written "00:30:00" here/,
    }),
  },
  {
    name: 'a slurm timeout longer than its time_limit',
    setup: backend('type: slurm\ntime_limit: "02:00:00"\ntimeout: 3h\n', {
      exit: [1],
      says: /backend\.yml:3:\d+ +timeout: timeout 3h is longer than time_limit "02:00:00" \(2h\)/,
    }),
  },
  {
    name: 'a slurm timeout one second past its time_limit, in bare seconds',
    setup: backend('type: slurm\ntime_limit: "2:00:00"\ntimeout: 7201\n', {
      exit: [1],
      says: /timeout: timeout 2h1s is longer than time_limit "2:00:00" \(2h\)/,
    }),
  },
  {
    name: 'a slurm queue_timeout of minus five',
    setup: backend('type: slurm\nqueue_timeout: -5\n', {
      exit: [1],
      says: /queue_timeout: must be from 1 to 31536000 seconds/,
    }),
  },
  {
    name: 'a slurm queue_timeout too large to hold',
    setup: backend('type: slurm\nqueue_timeout: 1e400\n', {
      exit: [1],
      says: /queue_timeout: .*infinity/,
    }),
  },
  {
    // Past 2^31 - 1 ms a single setTimeout fires at once; the run must not.
    name: 'a local run with a 30-day timeout, past what one timer holds',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'model.yml'), 'run_id: long-timeout\ncommand: "sleep 1; echo ok"\n');
      writeFileSync(join(dir, 'local.yml'), 'type: local\ntimeout: 30d\n');
      return {
        args: ['run', 'model.yml', '--backend-config', 'local.yml'],
        exit: [0],
        says: /long-timeout succeeded/,
        keep: ['model.yml', 'local.yml'],
      };
    },
  },
];
