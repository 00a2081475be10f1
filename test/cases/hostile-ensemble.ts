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

/** A row for a value YAML reads as a number JSON cannot hold, written at `line` of ens.yml. */
function nonFinite(name: string, extra: string, says: RegExp, args = ['ensemble', 'ens.yml']) {
  return {
    // On the old code it was taken: a run id xInfinity, a template rendering Infinity, null on record.
    name,
    setup({ dir }: { dir: string }) {
      lay(dir, extra);
      return { args, exit: [2], says, keep: ['model.yml', 'ens.yml'] };
    },
  } satisfies HostileCase;
}

export const hostileCases: HostileCase[] = [
  nonFinite(
    'an ensemble parameter value of .inf',
    "run_id: 'x{{ member.sleep_s }}'\nparameters:\n  config.sleep_s: [.inf]\n",
    /ens\.yml:6:\d+ +parameters\["config\.sleep_s"\]\[0\]: is infinity \(\.inf.*write a finite number/,
  ),
  nonFinite(
    'an ensemble member value of .nan, deep in a mapping',
    'members:\n  - config.sleep_s: {a: [1, .nan]}\n',
    /ens\.yml:5:\d+ +members\[0\]\["config\.sleep_s"\]\.a\[1\]: is NaN \(\.nan/,
  ),
  nonFinite(
    'a --set value of -.inf for an ensemble',
    'replicas: 2\n',
    /--set config\.sleep_s=-\.inf: the value is minus infinity/,
    ['ensemble', 'ens.yml', '--set', 'config.sleep_s=-.inf'],
  ),
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
