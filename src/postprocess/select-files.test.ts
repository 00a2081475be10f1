import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { noFilesMessage, selectEntries, selectFiles, stagingDirProblem } from './select-files.js';

describe('selectFiles', () => {
  let tree: Tree;
  let run: string;

  beforeAll(() => {
    tree = makeTree({
      'outside.txt': 'not part of the run',
      'outside-dir/secret.txt': 'not part of the run either',
      'run/a.txt': 'a',
      'run/b.log': 'b',
      'run/.hidden': 'dotfile',
      'run/out/x.nc': 'x',
      'run/out/.dot': 'dotfile in a folder',
      'run/out/sub/y.nc': 'y',
      'run/out/sub/z.tmp': 'z',
      'run/scratch/tmp.bin': 't',
      'run/empty/': '',
      'run/.modelrun/lock': '',
      'run/.modelrun/run.json': '{}',
      'run/.modelrun/history/earlier/run.json': '{}',
    });
    run = tree.path('run');
    symlinkSync(tree.path('outside.txt'), tree.path('run/link-out.txt'));
    symlinkSync('a.txt', tree.path('run/link-in.txt'));
    symlinkSync(tree.path('outside-dir'), tree.path('run/linked-dir'));
  });
  afterAll(() => tree.remove());

  const everything = [
    '.hidden',
    'a.txt',
    'b.log',
    'out/.dot',
    'out/sub/y.nc',
    'out/sub/z.tmp',
    'out/x.nc',
    'scratch/tmp.bin',
  ];

  it.each([
    ['every regular file, dotfiles too, by default', ['**'], [], everything],
    ['a folder', ['out/**'], [], ['out/.dot', 'out/sub/y.nc', 'out/sub/z.tmp', 'out/x.nc']],
    [
      'a folder named without a glob',
      ['out'],
      [],
      ['out/.dot', 'out/sub/y.nc', 'out/sub/z.tmp', 'out/x.nc'],
    ],
    ['several globs', ['*.txt', '**/*.nc'], [], ['a.txt', 'out/sub/y.nc', 'out/x.nc']],
    [
      'less what exclude matches',
      ['**'],
      ['**/*.tmp', 'scratch/**', '.*'],
      ['a.txt', 'b.log', 'out/.dot', 'out/sub/y.nc', 'out/x.nc'],
    ],
    [
      'nothing from .modelrun/ or its history, even when asked for',
      ['.modelrun/**', '**/*.json', '.modelrun/history/**', '.modelrun'],
      [],
      [],
    ],
    ['nothing outside the run directory', ['../*.txt', '/etc/host*'], [], []],
    ['no symlinks, wherever they point', ['link-*', 'linked-dir/**'], [], []],
  ])('takes %s', async (_name, include, exclude, expected) => {
    expect(await selectFiles(run, { include, exclude })).toEqual(expected);
  });

  it('leaves out the paths in skip', async () => {
    const files = await selectFiles(run, { include: ['*'], exclude: [], skip: ['a.txt', 'b.log'] });
    expect(files).toEqual(['.hidden']);
  });

  it('returns the paths sorted', async () => {
    const files = await selectFiles(run, { include: ['**'], exclude: [] });
    expect(files).toEqual([...files].sort());
  });
});

describe('selectEntries', () => {
  let tree: Tree;
  let run: string;

  beforeAll(() => {
    tree = makeTree({ 'outside.txt': 'x', 'run/a.txt': 'a', 'run/scratch/': '', 'run/sub/': '' });
    run = tree.path('run');
    symlinkSync(tree.path('outside.txt'), tree.path('run/link-out'));
    symlinkSync(tree.path('run/sub'), tree.path('run/link-dir'));
    execFileSync('mkfifo', [tree.path('run/pipe')]);
    writeFileSync(Buffer.from(`${run}/sub/caf\xc3\xa9\x80\n.txt`, 'latin1'), 'x');
    writeFileSync(Buffer.from(`${run}/\xfe`, 'latin1'), '');
  });
  afterAll(() => tree.remove());

  it('takes symlinks as links with their targets, and names what it leaves out', async () => {
    const { entries, leftOut } = await selectEntries(run, { include: ['**'], exclude: [] });
    expect(entries.map(({ path, target }) => ({ path, target }))).toEqual([
      { path: 'a.txt', target: undefined },
      { path: 'link-dir', target: tree.path('run/sub') },
      { path: 'link-out', target: tree.path('outside.txt') },
    ]);
    expect(leftOut).toEqual([
      { path: '\\xfe', reason: 'name is not UTF-8' },
      { path: 'pipe', reason: 'a FIFO, not a regular file' },
      { path: 'sub/café\\x80\\x0a.txt', reason: 'name is not UTF-8' },
    ]);
  });

  it('names nothing that the globs do not match', async () => {
    const { entries, leftOut } = await selectEntries(run, { include: ['*.txt'], exclude: [] });
    expect(entries.map((entry) => entry.path)).toEqual(['a.txt']);
    expect(leftOut).toEqual([]);
  });
});

describe('selectFiles with line terminators in names', () => {
  let tree: Tree;
  beforeAll(() => {
    tree = makeTree({
      'new\nline.txt': '',
      'carriage\r': '',
      'separators\u2028\u2029.txt': '',
      // The private-use character the crawl spells line terminators with, here for real.
      '\uE000n.txt': '',
      'new\nfolder/inside.txt': '',
      'new\nfolder/scratch.tmp': '',
    });
  });
  afterAll(() => tree.remove());

  it('selects them like any other name, globs and all', async () => {
    expect(
      await selectFiles(tree.root, { include: ['**/*.txt', '*'], exclude: ['new*/*.tmp'] }),
    ).toEqual([
      'carriage\r',
      'new\nfolder/inside.txt',
      'new\nline.txt',
      'separators\u2028\u2029.txt',
      '\uE000n.txt',
    ]);
  });
});

describe('stagingDirProblem', () => {
  let tree: Tree;
  beforeAll(() => {
    tree = makeTree({ 'run/': '', 'file.txt': 'x' });
  });
  afterAll(() => tree.remove());

  it.each([
    ['a directory', 'run', undefined],
    ['a missing directory', 'gone', 'does not exist'],
    ['a file', 'file.txt', 'is not a directory'],
  ])('says what is wrong with %s', async (_name, relative, expected) => {
    const problem = await stagingDirProblem(tree.path(relative));
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });
});

describe('noFilesMessage', () => {
  it('names the globs that matched nothing', () => {
    expect(noFilesMessage({ include: ['out/**'], exclude: ['*.tmp'] })).toBe(
      'no files in the run directory match ["out/**"] minus ["*.tmp"]; check include and exclude, or whether the model wrote its outputs elsewhere',
    );
  });
});

describe('the files that hold secret values', () => {
  const tree = makeTree({
    'run/out/x.nc': 'x',
    'run/.modelrun/run.json': '{}',
    'run/.modelrun/apptainer.env': 'API_TOKEN=s3cr3t\n',
  });
  afterAll(() => tree.remove());

  it('are never taken, and named as left out when the globs chose them', async () => {
    const { entries, leftOut } = await selectEntries(tree.path('run'), {
      include: ['**', '.modelrun/**'],
      exclude: [],
    });
    expect(entries.map((entry) => entry.path)).toEqual(['out/x.nc']);
    expect(leftOut).toEqual([
      {
        path: '.modelrun/apptainer.env',
        reason: 'holds secret values; never archived or checksummed',
      },
    ]);
  });

  it('are not named when the globs do not reach them', async () => {
    const picked = await selectEntries(tree.path('run'), {
      include: ['.modelrun/*.json', 'out/**'],
      exclude: [],
    });
    expect(picked.leftOut).toEqual([]);
    const excluded = await selectEntries(tree.path('run'), {
      include: ['**', '.modelrun/**'],
      exclude: ['.modelrun/apptainer.env'],
    });
    // Left out by the user's own exclude: nothing to name.
    expect(excluded.leftOut).toEqual([]);
  });
});
