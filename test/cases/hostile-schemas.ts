import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/** A staging folder the user made and filled, and `modelrun init` given odd folder names. */
export const hostileCases: HostileCase[] = [
  {
    name: 'a staging dir modelrun did not make, holding a file of the user’s that the template also has',
    setup({ dir }) {
      writeFileSync(
        join(dir, 'model.yml'),
        'run_id: x\noutput_dir: ./sims\ntemplate: ./tpl\ncommand: "true"\n',
      );
      mkdirSync(join(dir, 'sims', 'x'), { recursive: true });
      mkdirSync(join(dir, 'tpl'));
      writeFileSync(join(dir, 'sims', 'x', 'notes.txt'), 'mine\n');
      writeFileSync(join(dir, 'tpl', 'notes.txt'), 'NEW\n');
      return {
        args: ['run', 'model.yml'],
        exit: [2],
        says: /already holds .*notes\.txt, and modelrun did not stage this folder/,
        keep: ['model.yml', 'tpl', 'sims'],
      };
    },
  },
];
