import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * The command line itself: `help`, `completion`, near-miss options,
 * `validate --kind`, and `-` for standard input (empty here: the table
 * gives every command an empty stdin). Each is a usage error (2) or an
 * invalid file (1) that says what to do.
 */
export const hostileCases: HostileCase[] = [
  {
    name: 'help for a command that does not exist',
    setup: () => ({ args: ['help', 'backends', 'valdate'], exit: [2], says: 'did you mean' }),
  },
  {
    name: 'completion for a shell modelrun has no script for',
    setup: () => ({ args: ['completion', 'tcsh'], exit: [2], says: 'Allowed choices are bash' }),
  },
  {
    name: 'an option given by the start of its name',
    setup: () => ({
      args: ['backends', 'create', '--backend', 'slurm'],
      exit: [2],
      says: 'Did you mean --backend-type?',
    }),
  },
  {
    name: 'validate --kind of no kind',
    setup: () => ({ args: ['validate', '--kind', 'job', 'x.yml'], exit: [2], says: 'Allowed' }),
  },
  {
    name: 'a file that could be a model or a backend config',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'both.yml'), 'run_id: r1\ntype: local\n');
      return { args: ['validate', 'both.yml'], exit: [1], says: 'pass --kind', keep: ['both.yml'] };
    },
  },
  {
    name: 'an empty standard input as a model file',
    setup: () => ({ args: ['run', '-', '--dry-run'], exit: [2], says: '<stdin>' }),
  },
  {
    name: 'an empty standard input to validate',
    setup: () => ({ args: ['validate', '-'], exit: [1], says: '<stdin>:1:1  the file is empty' }),
  },
  {
    name: 'standard input given twice',
    setup: () => ({
      args: ['pipeline', '-', '--postprocessor-config', '-'],
      exit: [2],
      says: 'given 2 times',
    }),
  },
];
