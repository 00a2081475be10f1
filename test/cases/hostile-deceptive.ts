import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

const RLO = '\u202e';

/** Names that would turn modelrun's lines around on a terminal: each is shown escaped. */
export const hostileCases: HostileCase[] = [
  {
    name: 'a run in a folder whose name holds a right-to-left override',
    setup({ dir }) {
      mkdirSync(join(dir, `x${RLO}abc`));
      writeFileSync(join(dir, `x${RLO}abc`, 'm.yml'), 'run_id: e1\ncommand: "false"\n');
      return {
        args: ['run', `x${RLO}abc/m.yml`],
        exit: [1],
        says: /run dir .*x\\u202eabc\/simulations\/e1\n/,
        keep: [`x${RLO}abc/m.yml`],
      };
    },
  },
  {
    name: 'a file named with a right-to-left override in a staging dir modelrun did not make (run_id_subdir: false)',
    setup({ dir }) {
      mkdirSync(join(dir, 'tpl'));
      mkdirSync(join(dir, 'out'));
      writeFileSync(join(dir, 'tpl', 'a.txt'), 'a\n');
      writeFileSync(join(dir, 'out', `evil${RLO}txt.sh`), 'mine\n');
      writeFileSync(
        join(dir, 'm.yml'),
        'run_id: r1\noutput_dir: ./out\nrun_id_subdir: false\ntemplate: ./tpl\ncommand: "true"\n',
      );
      return {
        args: ['run', 'm.yml'],
        exit: [2],
        // Escaped where it is named, and no raw override anywhere in the output.
        says: /^(?![\s\S]*\u202e)[\s\S]*already holds .*evil\\u202etxt\.sh,[\s\S]*hint: with run_id_subdir: false .*point output_dir at a new or empty folder/,
        keep: ['m.yml', 'tpl', `out/evil${RLO}txt.sh`],
      };
    },
  },
  {
    name: 'init with names that scripts and emoji need: joiners and a non-joiner',
    setup() {
      return {
        args: [
          'init',
          '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}-family/\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645',
        ],
        exit: [0],
        says: /\u{1f468}\u200d\u{1f469}\u200d\u{1f467}-family\/\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645/u,
      };
    },
  },
  ...[
    [
      'a misspelt runtime name in a template',
      '{{ runtime.run_idd }}',
      /runtime\.run_idd is not defined\n {2}hint: did you mean runtime\.run_id\? runtime has /,
    ],
    [
      'an undefined config key given to a set and printed later',
      'a\n{% set y = config.nope %}{{ y }}',
      /line 2, column 1: config\.nope is not defined/,
    ],
  ].map(
    ([name, text, says]): HostileCase => ({
      name: name as string,
      setup({ dir }) {
        mkdirSync(join(dir, 'tpl'));
        writeFileSync(join(dir, 'tpl', 't.txt'), text as string);
        writeFileSync(join(dir, 'm.yml'), 'run_id: g1\ntemplate: ./tpl\ncommand: "true"\n');
        return {
          args: ['generate', 'm.yml'],
          exit: [2],
          says: says as RegExp,
          keep: ['m.yml', 'tpl'],
        };
      },
    }),
  ),
];
