import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Template staging: nothing is written through a link out of the staging
 * directory, nothing is read from outside the template folder, and no
 * template mistake hangs or crashes.
 */

const KEEP = ['model.yml', 'template'];

/**
 * A model staged into dir/out/r1 from dir/template, with `files` in the
 * template. out/r1 has a `.modelrun/`, as after an earlier run, so what a row
 * leaves there stands for what a model left, not for files of the user's.
 */
function lay(dir: string, files: Record<string, string | Buffer>, config = ''): void {
  const model = `run_id: r1\noutput_dir: ./out\ntemplate: ./template\ncommand: "true"\n${config}`;
  writeFileSync(join(dir, 'model.yml'), model);
  mkdirSync(join(dir, 'template'), { recursive: true });
  mkdirSync(join(dir, 'out', 'r1', '.modelrun'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** A file in `outside` to point links at: one that is there already, or a new one. */
function outsideFile(outside: string): string {
  const existing = readdirSync(outside).find((name) => lstatSync(join(outside, name)).isFile());
  if (existing !== undefined) return join(outside, existing);
  writeFileSync(join(outside, 'precious.txt'), 'precious\n');
  return join(outside, 'precious.txt');
}

const generate = (run: Partial<HostileRun> = {}): HostileRun => ({
  args: ['generate', 'model.yml'],
  keep: KEEP,
  ...run,
});

const notRoot = () => (process.getuid?.() === 0 ? undefined : 'making a device node needs root');

export const hostileCases: HostileCase[] = [
  ...['a text', 'a binary'].map(
    (kind): HostileCase => ({
      name: `a staging dir holding a link into outside where ${kind} template file goes`,
      setup({ dir, outside }: HostilePaths) {
        lay(dir, { 'template/input.txt': kind === 'a text' ? '{{ runtime.run_id }}' : '\0bin' });
        symlinkSync(outsideFile(outside), join(dir, 'out', 'r1', 'input.txt'));
        return generate({ says: /holds a symlink input\.txt where it goes/ });
      },
    }),
  ),
  {
    name: 'a staging dir whose subfolder is a link to outside',
    setup({ dir, outside }) {
      lay(dir, { 'template/data/input.txt': 'x' });
      symlinkSync(outside, join(dir, 'out', 'r1', 'data'));
      return generate({ says: /template folder data: .* holds a symlink data where it goes/ });
    },
  },
  {
    name: 'a staging dir holding a hard link to a file in outside',
    setup({ dir, outside }) {
      lay(dir, { 'template/input.txt': 'new' });
      linkSync(outsideFile(outside), join(dir, 'out', 'r1', 'input.txt'));
      return generate({ exit: [0], says: /1 rendered/ });
    },
  },
  {
    name: 'a template that includes ../template-secrets/x',
    setup({ dir }) {
      lay(dir, {
        'template/main.txt': '{% include "../template-secrets/x" %}',
        'template-secrets/x': 'secret',
      });
      return generate({
        says: 'template main.txt: the included template "../template-secrets/x" leaves the template folder',
      });
    },
  },
  {
    name: 'a template that includes a symlink into outside',
    setup({ dir, outside }) {
      lay(dir, { 'template/main.txt': '{% include "link.txt" %}' });
      symlinkSync(outsideFile(outside), join(dir, 'template', 'link.txt'));
      return generate({ says: /"link\.txt" is a symlink to .*, outside the template folder/ });
    },
  },
  {
    name: 'a template holding a symlink into outside (staged as a link, never followed)',
    setup({ dir, outside }) {
      lay(dir, {});
      symlinkSync(outsideFile(outside), join(dir, 'template', 'forcing.nc'));
      return generate({ exit: [0], says: /0 rendered, 0 copied, 1 linked/ });
    },
  },
  {
    name: 'a FIFO in the template',
    setup({ dir }) {
      lay(dir, { 'template/a.txt': 'a' });
      execFileSync('mkfifo', [join(dir, 'template', 'pipe')]);
      return generate({ says: 'template entry pipe is a FIFO (named pipe)', timeoutS: 10 });
    },
  },
  {
    name: 'a template that includes a FIFO',
    setup({ dir }) {
      lay(dir, { 'template/main.txt': '{% include "pipe" %}' });
      execFileSync('mkfifo', [join(dir, 'template', 'pipe')]);
      return generate({ says: 'the included template "pipe" is not a file', timeoutS: 10 });
    },
  },
  {
    name: 'a device node in the template',
    skip: notRoot,
    setup({ dir }) {
      lay(dir, {});
      execFileSync('mknod', [join(dir, 'template', 'null'), 'c', '1', '3']);
      return generate({ says: 'template entry null is a device' });
    },
  },
  ...[
    ['a "/"', '"../../escaped"'],
    ['a NUL byte', '"a\\0b"'],
    ['".."', '".."'],
  ].map(
    ([what, value]): HostileCase => ({
      name: `a template name that renders to ${what}`,
      setup({ dir }) {
        lay(dir, { 'template/{{ config.name }}': 'x' }, `config:\n  name: ${value}\n`);
        return generate({ says: 'which is not a single file name' });
      },
    }),
  ),
  {
    name: 'a staging dir holding a folder where a template file goes',
    setup({ dir }) {
      lay(dir, { 'template/input.txt': 'x', 'out/r1/input.txt/keep': 'k' });
      return generate({ says: /holds a folder input\.txt where it goes/ });
    },
  },
  {
    name: 'a staging dir holding a file where a template folder goes',
    setup({ dir }) {
      lay(dir, { 'template/data/x.txt': 'x', 'out/r1/data': 'a file' });
      return generate({ says: /holds a file data where it goes/ });
    },
  },
  ...(
    [
      ['named', { 'template/.modelrun/run.json': '{"status": "forged"}' }, ''],
      [
        'whose name renders to',
        { 'template/{{ config.dir }}/run.json': '{"status": "forged"}' },
        'config:\n  dir: .modelrun\n',
      ],
    ] satisfies [string, Record<string, string>, string][]
  ).map(
    ([what, files, config]): HostileCase => ({
      name: `a template entry ${what} .modelrun, modelrun's own folder in the staging dir`,
      setup({ dir }) {
        lay(dir, files, config);
        return generate({ says: /would be staged as \.modelrun, the folder where modelrun keeps/ });
      },
    }),
  ),
  {
    name: 'a Latin-1 template file with template syntax',
    setup({ dir }) {
      lay(dir, { 'template/input.nml': Buffer.from('caf\u00e9 = {{ x }}\n', 'latin1') });
      return generate({
        exit: [0],
        says: 'template input.nml was copied, not rendered: it is not UTF-8 text (byte 3 is 0xe9)',
      });
    },
  },
];
