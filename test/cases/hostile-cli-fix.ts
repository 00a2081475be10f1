import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * `help` given more words than the command tree has, or a command name
 * with two letters swapped: a usage error that names the command in full
 * and says what to type; `validate` of a file whose `type:` is misspelt,
 * which is checked as the kind of the nearest type.
 */
export const hostileCases: HostileCase[] = [
  {
    name: 'help with a word after a command that has no subcommands',
    setup: () => ({
      args: ['help', 'backends', 'create', 'extra'],
      exit: [2],
      says: 'modelrun backends create has no subcommands',
    }),
  },
  {
    name: 'help for a command with two letters swapped',
    setup: () => ({ args: ['help', 'rnu'], exit: [2], says: 'did you mean `modelrun help run`?' }),
  },
  {
    name: 'validate of a file whose type is misspelt',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'typo.yml'), 'type: loacl\n');
      return {
        args: ['validate', 'typo.yml'],
        exit: [1],
        says: 'typo.yml:1:7  type: type "loacl" is not a backend type. Did you mean "local"?',
        keep: ['typo.yml'],
      };
    },
  },
];
