import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * Ensemble files and ensemble folders: what a user (or a member's model)
 * left where modelrun keeps the ensemble's record, and values no member can
 * run with.
 */

/** An ensemble `ens.yml` of model.yml, its folder dir/sims/e, with `extra` lines. */
function lay(dir: string, extra: string): void {
  writeFileSync(join(dir, 'model.yml'), 'run_id: r\ncommand: "true"\n');
  writeFileSync(
    join(dir, 'ens.yml'),
    `model: model.yml\nensemble_id: e\noutput_dir: ./sims\n${extra}`,
  );
}

export const hostileCases: HostileCase[] = [
  {
    // On the old code the link was replaced by modelrun's record, where a file there is refused.
    name: 'a symlink at the ensemble folder’s ensemble.json, to a file outside',
    setup({ dir, outside }) {
      lay(dir, 'replicas: 2\n');
      mkdirSync(join(dir, 'sims', 'e'), { recursive: true });
      symlinkSync(join(outside, 'data.txt'), join(dir, 'sims', 'e', 'ensemble.json'));
      return {
        args: ['ensemble', 'ens.yml'],
        exit: [2],
        says: /ensemble\.json is a link \(to \S+data\.txt\) that modelrun did not make/,
        keep: ['model.yml', 'ens.yml', 'sims'],
      };
    },
  },
];
