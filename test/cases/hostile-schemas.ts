import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostileRun } from '../helpers/hostile.js';

/** `modelrun init` refused, with nothing written in the case folder. */
function refusedInit(args: string[], says: string | RegExp): HostileRun {
  return { args: ['init', ...args], exit: [2], says, keep: ['.'] };
}

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
  {
    name: 'init -, which means standard input elsewhere',
    setup: () => refusedInit(['-'], /hint: for a folder named -, write: modelrun init \.\/-/),
  },
  {
    name: 'init -- -P, a folder name cd would take for an option',
    setup: () => ({ args: ['init', '--', '-P'], exit: [0], says: 'next: cd ./-P && modelrun run' }),
  },
  {
    name: 'init under a symlink to nothing',
    setup({ dir }) {
      symlinkSync('/nonexistent-modelrun/deeper', join(dir, 'bp'));
      return refusedInit(
        ['bp/x'],
        /bp is a symlink to nothing \(to \/nonexistent-modelrun\/deeper\)/,
      );
    },
  },
  {
    name: 'init /proc/self/x',
    setup: () => refusedInit(['/proc/self/x'], /on the kernel's proc filesystem/),
  },
  {
    name: 'init /dev/full',
    setup: () => refusedInit(['/dev/full'], '/dev/full is a device, not a folder'),
  },
  {
    name: 'init of a name with a right-to-left override',
    setup: () =>
      refusedInit(['cod\u202egnp.exe'], 'cod\\u202egnp.exe has invisible formatting characters'),
  },
];
