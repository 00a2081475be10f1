import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { templateContext } from '../../test/helpers/template-context.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { ConfigError } from '../errors.js';
import { renderTemplate } from './render-template.js';

let tree: Tree;
afterEach(() => tree?.remove());

const context = templateContext({
  grid: { nx: 400 },
  name: 'bay',
  scenarios: ['calm', 'storm'],
  up: '../escaped',
  abs: '/tmp/modelrun-escaped',
  deep: '../../escaped',
  bookkeeping: '.modelrun',
  nullval: null,
});

const render = (files: Record<string, string>) => {
  tree = makeTree(
    Object.fromEntries(Object.entries(files).map(([path, text]) => [`tpl/${path}`, text])),
  );
  return renderTemplate(tree.path('tpl'), tree.path('out'), context);
};

describe('renderTemplate', () => {
  it('renders file contents with config and runtime', async () => {
    await render({
      'input.nml':
        'nx = {{ config.grid.nx }}\nrun = {{ runtime.run_id }}\nsteps = {{ runtime.period.steps | length }}\n',
    });
    expect(readFileSync(tree.path('out', 'input.nml'), 'utf8')).toBe(
      'nx = 400\nrun = run-7\nsteps = 3\n',
    );
  });

  it('renders file and folder names', async () => {
    await render({
      '{{ config.name }}/{{ runtime.run_id }}.cfg': 'x',
      '{% for s in config.scenarios %}{% endfor %}plain.txt': 'y',
    });
    expect(readFileSync(tree.path('out', 'bay', 'run-7.cfg'), 'utf8')).toBe('x');
    expect(readFileSync(tree.path('out', 'plain.txt'), 'utf8')).toBe('y');
  });

  it('supports includes between template files', async () => {
    await render({ 'main.txt': '{% include "part.txt" %}!', 'part.txt': 'part {{ config.name }}' });
    expect(readFileSync(tree.path('out', 'main.txt'), 'utf8')).toBe('part bay!');
  });

  it('copies binary files untouched, even with template syntax in them', async () => {
    tree = makeTree({ 'tpl/': '' });
    const bytes = Buffer.from([0x00, 0x7b, 0x7b, 0x20, 0x78, 0x20, 0x7d, 0x7d, 0xff, 0x00]);
    writeFileSync(tree.path('tpl', 'grid.bin'), bytes);
    const summary = await renderTemplate(tree.path('tpl'), tree.path('out'), context);
    expect(readFileSync(tree.path('out', 'grid.bin')).equals(bytes)).toBe(true);
    expect(summary).toEqual({ files: 1, rendered: 0, copied: 1, linked: 0, warnings: [] });
  });

  it('names the template file, the line and the variable that is not defined', async () => {
    await expect(render({ 'sub/input.txt': 'a = 1\nb = {{ config.missing }}\n' })).rejects.toThrow(
      /^template sub\/input\.txt, line 2, column \d+: config\.missing is not defined$/,
    );
  });

  it.each([
    ['printed', 'x = {{ config.nmae }}', 'line 1, column 5: config.nmae is not defined'],
    ['deeper', '{{ config.grid.ny }}', 'line 1, column 1: config.grid.ny is not defined'],
    [
      'through a filter',
      'a\n{{ config.nmae | upper }}',
      'line 2, column 18: config.nmae is not defined',
    ],
    [
      'through a date filter',
      '{{ config.strat | strftime("%Y") }}',
      'line 1, column 19: config.strat is not defined',
    ],
    [
      'in a set',
      '{% set y = config.nmae | upper %}{{ y }}',
      'line 1, column 26: config.nmae is not defined',
    ],
    [
      'given to a set, printed later',
      'a\n{% set y = config.nmae %}\n{{ y }}',
      'line 2, column 1: config.nmae is not defined',
    ],
    ['outside the context', '{{ nosuch }}', 'line 1, column 1: nosuch is not defined'],
    [
      'looped over',
      'x\n{% for s in config.stattions %}{{ s }}{% endfor %}',
      'line 2, column 19: config.stattions is not defined',
    ],
    [
      'looped over, with two names, inside a loop',
      '{% for a in config.scenarios %}{% for k, v in config.nmae %}{% endfor %}{% endfor %}',
      'line 1, column 53: config.nmae is not defined',
    ],
  ])('refuses an undefined variable %s, naming it', async (_name, text, says) => {
    const error = await render({ 'input.txt': text }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`template input.txt, ${says}`);
  });

  it('suggests the config key a misspelt name was meant to be', async () => {
    const error = (await render({ 'input.txt': '{{ config.nmae }}' }).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(error.hint).toMatch(/^did you mean config\.name\? config has grid, name, /);
  });

  it.each([
    ['{{ config.nullval }}', ''],
    ['{{ config.nullval | default("nd") }}', ''],
    ['{{ config.nullval | default("nd", true) }}', 'nd'],
    ['{{ config.nosuch | default("nd") }}', 'nd'],
    ['{% if config.nullval is defined %}defined{% endif %}', 'defined'],
    ['{% if config.nullval is none %}none{% endif %}', 'none'],
    ['{% for s in config.nullval %}{{ s }}{% else %}empty{% endfor %}', 'empty'],
    ['{% for s in config.scenarios %}{{ s }} {% endfor %}', 'calm storm '],
  ])('takes a key with a null value as defined: %s → "%s"', async (text, expected) => {
    await render({ 'input.txt': text });
    expect(readFileSync(tree.path('out', 'input.txt'), 'utf8')).toBe(expected);
  });

  it('hints runtime’s own names for a runtime name, never config', async () => {
    const error = (await render({ 'input.txt': '{{ runtime.nope }}' }).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(error.message).toBe('template input.txt, line 1, column 1: runtime.nope is not defined');
    expect(error.hint).toMatch(
      /^runtime has run_id, .*period; fix the spelling, or put a value of your own under `config:`/,
    );
    expect(error.hint).not.toMatch(/define it under/);
  });

  it('never suggests the very name that is not defined', async () => {
    tree = makeTree({ 'tpl/input.txt': '{{ config.gone }}' });
    const error = (await renderTemplate(
      tree.path('tpl'),
      tree.path('out'),
      templateContext({ gone: undefined, other: 1 }),
    ).catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toBe('template input.txt, line 1, column 1: config.gone is not defined');
    expect(error.hint).not.toMatch(/did you mean/);
  });

  it('formats dates with strftime and moves them with add_hours, in UTC', async () => {
    await render({
      'ww3_shel.nml':
        '{{ runtime.period.start | strftime("%Y%m%d %H%M%S") }}\n{{ runtime.period.start | add_hours(30) | strftime("%Y%m%d %H%M%S") }}\n',
    });
    expect(readFileSync(tree.path('out', 'ww3_shel.nml'), 'utf8')).toBe(
      '20240101 000000\n20240102 060000\n',
    );
  });

  it('names an unknown strftime directive, with the line', async () => {
    await expect(
      render({ 'input.txt': 'a\n{{ runtime.period.start | strftime("%Y%Q") }}' }),
    ).rejects.toThrow(
      /^template input\.txt, line 2, column \d+: filter strftime: unknown directive "%Q" in "%Y%Q"/,
    );
  });

  it('names the entry whose name uses an undefined variable', async () => {
    await expect(render({ '{{ config.nope }}.txt': '' })).rejects.toThrow(
      /^template the name of \{\{ config\.nope \}\}\.txt/,
    );
  });

  it.each([['{{ config.up }}.txt'], ['{{ config.abs }}.txt'], ['a/{{ config.deep }}.txt']])(
    'refuses a name that renders outside the staging dir: %s',
    async (name) => {
      await expect(render({ [name]: 'x' })).rejects.toThrow(
        /its name renders to ".*", which is not a single file name, so it could land outside the staging directory/,
      );
      expect(existsSync(tree.path('escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/modelrun-escaped.txt')).toBe(false);
    },
  );

  it.each([
    ['.modelrun/run.json', /^template entry \.modelrun would be staged as \.modelrun, the folder/],
    ['.modelrun', /^template entry \.modelrun would be staged as \.modelrun/],
    ['.ModelRun/run.json', /^template entry \.ModelRun would be staged as \.modelrun/],
    [
      '{{ config.bookkeeping }}/run.json',
      /^template entry \{\{ config\.bookkeeping \}\} \(its name renders to "\.modelrun"\) would be staged as \.modelrun/,
    ],
  ])(
    "refuses %s at the top, which would overwrite modelrun's own record",
    async (name, message) => {
      tree = makeTree({
        [`tpl/${name}`]: '{"status": "forged"}',
        'out/.modelrun/run.json': 'real',
      });
      await expect(renderTemplate(tree.path('tpl'), tree.path('out'), context)).rejects.toThrow(
        message,
      );
      expect(readFileSync(tree.path('out', '.modelrun', 'run.json'), 'utf8')).toBe('real');
    },
  );

  it('stages a .modelrun folder below the top like any other', async () => {
    await render({ 'sub/.modelrun/notes.txt': '{{ config.name }}' });
    expect(readFileSync(tree.path('out', 'sub', '.modelrun', 'notes.txt'), 'utf8')).toBe('bay');
  });

  it('refuses to write through a symlink in the staging dir that points outside it', async () => {
    tree = makeTree({ 'tpl/link/file.txt': 'x', 'out/': '', 'elsewhere/': '' });
    symlinkSync(tree.path('elsewhere'), tree.path('out', 'link'));
    await expect(renderTemplate(tree.path('tpl'), tree.path('out'), context)).rejects.toThrow(
      /^template folder link: the staging directory .* holds a symlink link where it goes; modelrun never writes through a symlink/,
    );
    expect(existsSync(tree.path('elsewhere', 'file.txt'))).toBe(false);
  });

  it('stages a symlink as a symlink with the same target, never followed or rendered', async () => {
    tree = makeTree({ 'tpl/real.txt': '{{ config.name }}', 'elsewhere/big.nc': 'data' });
    symlinkSync(tree.path('elsewhere', 'big.nc'), tree.path('tpl', 'forcing.nc'));
    symlinkSync('real.txt', tree.path('tpl', 'alias.txt'));
    symlinkSync('/no/such/dir', tree.path('tpl', 'dangling'));
    const summary = await renderTemplate(tree.path('tpl'), tree.path('out'), context);
    expect(readlinkSync(tree.path('out', 'forcing.nc'))).toBe(tree.path('elsewhere', 'big.nc'));
    expect(readlinkSync(tree.path('out', 'alias.txt'))).toBe('real.txt');
    expect(readlinkSync(tree.path('out', 'dangling'))).toBe('/no/such/dir');
    expect(summary).toMatchObject({ files: 4, rendered: 1, copied: 0, linked: 3 });
    // Staging again keeps the links it made.
    expect(await renderTemplate(tree.path('tpl'), tree.path('out'), context)).toMatchObject({
      linked: 3,
    });
  });

  it.each([
    ['755', '755'],
    ['640', '640'],
    ['4755', '755'],
    ['2750', '750'],
  ])('gives a rendered and a copied file of mode %s the mode %s', async (octalFrom, octalTo) => {
    const [from, to] = [Number.parseInt(octalFrom, 8), Number.parseInt(octalTo, 8)];
    tree = makeTree({ 'tpl/run.sh': 'echo {{ runtime.run_id }}\n', 'tpl/grid.bin': '\u0000' });
    chmodSync(tree.path('tpl', 'run.sh'), from);
    chmodSync(tree.path('tpl', 'grid.bin'), from);
    await renderTemplate(tree.path('tpl'), tree.path('out'), context);
    expect(statSync(tree.path('out', 'run.sh')).mode & 0o7777).toBe(to);
    expect(statSync(tree.path('out', 'grid.bin')).mode & 0o7777).toBe(to);
  });

  it('copies a file that is not UTF-8 untouched, and warns when it looks like a template', async () => {
    tree = makeTree({ 'tpl/': '' });
    const latin1 = Buffer.from('caf\u00e9 = {{ config.name }}\n', 'latin1');
    const plain = Buffer.from('na\u00efve\n', 'latin1');
    writeFileSync(tree.path('tpl', 'input.nml'), latin1);
    writeFileSync(tree.path('tpl', 'notes.txt'), plain);
    const summary = await renderTemplate(tree.path('tpl'), tree.path('out'), context);
    expect(readFileSync(tree.path('out', 'input.nml')).equals(latin1)).toBe(true);
    expect(readFileSync(tree.path('out', 'notes.txt')).equals(plain)).toBe(true);
    expect(summary).toMatchObject({ rendered: 0, copied: 2 });
    expect(summary.warnings).toEqual([
      'template input.nml was copied, not rendered: it is not UTF-8 text (byte 3 is 0xe9); save it as UTF-8 to render it',
    ]);
  });

  it.each([
    ['a file', '', 'bad\\xe9name.txt'],
    ['a file in a folder', 'sub/', 'sub/bad\\xe9name.txt'],
  ])(
    'refuses %s whose name is not UTF-8, naming it with the bad byte escaped',
    async (_, folder, shown) => {
      tree = makeTree({ [`tpl/${folder}`]: '' });
      const name = Buffer.concat([
        Buffer.from(tree.path('tpl', folder, 'bad')),
        Buffer.from([0xe9]),
        Buffer.from('name.txt'),
      ]);
      writeFileSync(name, 'x = {{ config.name }}\n');
      const error = await renderTemplate(tree.path('tpl'), tree.path('out'), context).catch(
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        `template entry ${shown}: its name is not UTF-8 (byte 3 is 0xe9), so it cannot be staged`,
      );
      expect((error as ConfigError).hint).toBe(
        `rename it to a UTF-8 name in the template folder (bash spells this one $'${shown}'), or remove it`,
      );
    },
  );

  it('refuses a folder whose name is not UTF-8', async () => {
    tree = makeTree({ 'tpl/': '' });
    mkdirSync(Buffer.concat([Buffer.from(tree.path('tpl', 'd')), Buffer.from([0xff])]));
    await expect(renderTemplate(tree.path('tpl'), tree.path('out'), context)).rejects.toThrow(
      'template entry d\\xff: its name is not UTF-8 (byte 1 is 0xff)',
    );
  });

  it('keeps a byte order mark in a rendered file', async () => {
    await render({ 'bom.txt': '\ufeff{{ config.name }}' });
    expect(readFileSync(tree.path('out', 'bom.txt'), 'utf8')).toBe('\ufeffbay');
  });
});
