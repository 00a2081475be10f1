import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';
import { ARCHIVE, CHECKSUM, POSTPROCESS, row, stage } from './hostile-archive.js';

/** A model whose template holds `text` as input.txt, and whose command prints it. */
function templated(dir: string, text: string, config: string): void {
  mkdirSync(join(dir, 'template'));
  writeFileSync(join(dir, 'template', 'input.txt'), text);
  writeFileSync(
    join(dir, 'model.yml'),
    `run_id: r1\noutput_dir: ./out\ntemplate: ./template\ncommand: "cat input.txt"\nconfig:\n${config}`,
  );
}

const KEEP = ['model.yml', 'template'];

/** Inputs a hostile review found, each pinned by a row. */
export const hostileCases: HostileCase[] = [
  row(
    'archive: a link through a link to "." that climbs out once extracted, and a chain to /etc',
    ARCHIVE,
    (run) => {
      symlinkSync('.', join(run, 'b'));
      symlinkSync('b/../secret-outside', join(run, 'esc'));
      symlinkSync('/etc/passwd', join(run, 'lnkabs'));
      symlinkSync('lnkabs', join(run, 'lnkchain'));
    },
    {
      exit: [0],
      says: /esc \(symlink to b\/\.\.\/secret-outside, through the symlink b, .*lnkchain \(symlink to lnkabs, to the symlink lnkabs, which leads out/,
    },
  ),
  row(
    'checksum: a link through a link to "."',
    CHECKSUM,
    (run) => {
      symlinkSync('.', join(run, 'b'));
      symlinkSync('b/../secret-outside', join(run, 'esc'));
    },
    { exit: [0], says: /esc \(symlink to b\/\.\.\/secret-outside, through the symlink b,/ },
  ),
  {
    name: 'a config key with a null value, printed, with default, and blank',
    setup({ dir }) {
      templated(
        dir,
        'a=[{{ config.nullval }}] b=[{{ config.blank | default("nd") }}] c=[{{ config.nullval | default("nd", true) }}]\n',
        '  nullval: null\n  blank:\n',
      );
      return { args: ['run', 'model.yml'], exit: [0], says: 'a=[] b=[] c=[nd]', keep: KEEP };
    },
  },
  {
    name: 'a template loop over a misspelt config key',
    setup({ dir }) {
      templated(
        dir,
        '&stations\n{% for s in config.stattions %}{{ s }}\n{% endfor %}/\n',
        '  stations: [a, b]\n',
      );
      return {
        args: ['run', 'model.yml'],
        exit: [2],
        says: 'input.txt, line 2, column 19: config.stattions is not defined',
        keep: KEEP,
      };
    },
  },
  {
    name: 'archive: include only a SHA256SUMS that lists files the archive does not hold',
    setup({ dir }) {
      stage(dir, CHECKSUM);
      writeFileSync(
        join(dir, 'q.yml'),
        'type: archive\ndestination: out.tar.gz\ninclude: ["SHA256SUMS"]\n',
      );
      return {
        args: [...POSTPROCESS, '--postprocessor-config', 'q.yml'],
        exit: [1],
        says: /left out 1: SHA256SUMS \(a checksum file that lists none of the files/,
      };
    },
  },
  row(
    'archive: a destination through a folder the model made a symlink to the outside folder',
    'type: archive\ndestination: ./sims/r1/evil/arch.tar.gz\n',
    (run, { outside }) => {
      symlinkSync(outside, join(run, 'evil'));
    },
    { exit: [1], says: /goes through the symlink evil in the run directory/ },
  ),
  ...(
    [
      [
        'add_seconds past year 9999',
        '{{ "9999-12-31T23:59:59Z" | add_seconds(1) }}',
        /add_seconds\(1\) moves the date out of the years 0000 to 9999/,
      ],
      [
        'an offset of +99:00',
        '{{ "2024-01-01T00:00:00+99:00" | strftime("%Y") }}',
        /has the offset \+99:00, past the ±23:59/,
      ],
      ['add_days(1e10)', '{{ "2024-01-01" | add_days(1e10) }}', /got no value \(.*1e10/],
    ] as const
  ).map(
    ([what, text, says]): HostileCase => ({
      name: `a date filter given ${what}`,
      setup({ dir }) {
        templated(dir, text, '  x: 1\n');
        return { args: ['run', 'model.yml'], exit: [2], says, keep: KEEP };
      },
    }),
  ),
];
