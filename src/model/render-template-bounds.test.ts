import { execFileSync } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { templateContext } from '../../test/helpers/template-context.js';
import { makeTree, type Tree, type TreeSpec } from '../../test/helpers/tree.js';
import { renderTemplate } from './render-template.js';

let tree: Tree;
afterEach(() => tree?.remove());

const context = templateContext({ slash: 'a/b', nul: 'a\u0000b', dot: '..' });

/** A tree with the template in `template/`, the staging dir `out/` and files never to change in `outside/`. */
const setup = (spec: TreeSpec) => {
  tree = makeTree({ 'template/': '', 'out/': '', 'outside/secret.txt': 'secret\n', ...spec });
  return () => renderTemplate(tree.path('template'), tree.path('out'), context);
};
const secret = () => readFileSync(tree.path('outside', 'secret.txt'), 'utf8');

describe('staging never writes through a link out of the staging dir', () => {
  it.each([
    ['a text file', 'hello {{ runtime.run_id }}'],
    ['a binary file', '\u0000binary'],
  ])('refuses a symlink where %s goes, naming it', async (_kind, content) => {
    const stage = setup({ 'template/input.txt': content });
    symlinkSync(tree.path('outside', 'secret.txt'), tree.path('out', 'input.txt'));
    await expect(stage()).rejects.toThrow(
      /^template file input\.txt: the staging directory .* holds a symlink input\.txt where it goes/,
    );
    expect(secret()).toBe('secret\n');
  });

  it('refuses a symlinked folder deeper in the staging dir', async () => {
    const stage = setup({ 'template/a/b/c.txt': 'x', 'out/a/': '' });
    symlinkSync(tree.path('outside'), tree.path('out', 'a', 'b'));
    await expect(stage()).rejects.toThrow(/^template folder a\/b: .* holds a symlink a\/b where/);
    expect(readFileSync(tree.path('outside', 'secret.txt'), 'utf8')).toBe('secret\n');
    expect(() => readFileSync(tree.path('outside', 'c.txt'))).toThrow();
  });

  it('replaces a staged file that is a hard link, leaving the other name as it was', async () => {
    const stage = setup({ 'template/input.txt': 'new {{ runtime.run_id }}' });
    linkSync(tree.path('outside', 'secret.txt'), tree.path('out', 'input.txt'));
    await stage();
    expect(readFileSync(tree.path('out', 'input.txt'), 'utf8')).toBe('new run-7');
    expect(secret()).toBe('secret\n');
  });

  it('keeps a staged link that is exactly the one the template stages', async () => {
    const stage = setup({});
    symlinkSync('/data/forcing', tree.path('template', 'forcing'));
    symlinkSync('/data/forcing', tree.path('out', 'forcing'));
    expect(await stage()).toMatchObject({ files: 1, linked: 1 });
    expect(readlinkSync(tree.path('out', 'forcing'))).toBe('/data/forcing');
  });

  it('refuses a staged link to somewhere else where the template stages a link', async () => {
    const stage = setup({});
    symlinkSync('/data/forcing', tree.path('template', 'forcing'));
    symlinkSync(tree.path('outside'), tree.path('out', 'forcing'));
    await expect(stage()).rejects.toThrow(/^template symlink forcing: .* holds a symlink forcing/);
  });
});

describe('includes never leave the template folder', () => {
  it.each([
    ['a sibling folder whose name starts with the template folder name', '../template-secrets/x'],
    ['an absolute path', '/etc/hostname'],
    ['a climb out', '../outside/secret.txt'],
  ])('refuses %s', async (_kind, include) => {
    const stage = setup({
      'template/main.txt': `{% include "${include}" %}`,
      'template-secrets/x': 'leaked',
    });
    await expect(stage()).rejects.toThrow(
      `template main.txt: the included template "${include}" leaves the template folder`,
    );
    expect(() => readFileSync(tree.path('out', 'main.txt'))).toThrow();
  });

  it.each([['include'], ['import'], ['extends']])(
    'refuses a symlink out of the folder, by %s',
    async (tag) => {
      const stage = setup({
        'template/main.txt': `{% ${tag} "sneaky.txt"${tag === 'import' ? ' as m' : ''} %}`,
      });
      symlinkSync(tree.path('outside', 'secret.txt'), tree.path('template', 'sneaky.txt'));
      await expect(stage()).rejects.toThrow(
        /^template main\.txt: the included template "sneaky\.txt" is a symlink to .*outside\/secret\.txt, outside the template folder$/,
      );
    },
  );

  it('follows a symlink that stays inside, and relative names from a subfolder', async () => {
    const stage = setup({
      'template/parts/real.txt': 'part {{ runtime.run_id }}',
      'template/sub/main.txt': '{% include "../alias.txt" %}/{% include "./own.txt" %}',
      'template/sub/own.txt': 'own',
    });
    symlinkSync('parts/real.txt', tree.path('template', 'alias.txt'));
    await stage();
    expect(readFileSync(tree.path('out', 'sub', 'main.txt'), 'utf8')).toBe('part run-7/own');
  });
});

describe('no template mistake is a crash', () => {
  it('refuses a FIFO in the template, naming it, without hanging', async () => {
    const stage = setup({ 'template/a.txt': 'a' });
    execFileSync('mkfifo', [tree.path('template', 'pipe')]);
    await expect(stage()).rejects.toThrow(/^template entry pipe is a FIFO \(named pipe\)/);
  });

  it('refuses an include of a FIFO without hanging', async () => {
    const stage = setup({ 'template/main.txt': '{% include "pipe" %}' });
    execFileSync('mkfifo', [tree.path('template-pipe')]);
    renameSync(tree.path('template-pipe'), tree.path('template', 'pipe'));
    await expect(stage()).rejects.toThrow(/the included template "pipe" is not a file/);
  });

  it.each([
    ['{{ config.slash }}.txt', '"a/b.txt"'],
    ['{{ config.nul }}.txt', '"a\\u0000b.txt"'],
    ['{{ config.dot }}', '".."'],
  ])('refuses a name that renders to more than one name: %s', async (name, shown) => {
    const stage = setup({ [`template/${name}`]: 'x' });
    await expect(stage()).rejects.toThrow(
      `template entry ${name}: its name renders to ${shown}, which is not a single file name`,
    );
  });

  it('refuses a folder where a template file goes, and a file where a folder goes', async () => {
    const fileOnDir = setup({ 'template/input.txt': 'x', 'out/input.txt/': '' });
    await expect(fileOnDir()).rejects.toThrow(
      /^template file input\.txt: the staging directory .* holds a folder input\.txt where it goes/,
    );
    tree.remove();
    const dirOnFile = setup({ 'template/data/x.txt': 'x', 'out/data': 'a file' });
    await expect(dirOnFile()).rejects.toThrow(
      /^template folder data: the staging directory .* holds a file data where it goes/,
    );
  });

  it('names a template folder that is gone', async () => {
    tree = makeTree({ 'out/': '' });
    await expect(renderTemplate(tree.path('gone'), tree.path('out'), context)).rejects.toThrow(
      /^the template folder .*gone: it does not exist/,
    );
  });

  it('names a template file that is gone before it is read', async () => {
    const stage = setup({});
    mkdirSync(tree.path('template', 'sub'));
    symlinkSync('nowhere', tree.path('template', 'sub', 'dangling'));
    writeFileSync(tree.path('template', 'main.txt'), '{% include "sub/dangling" %}');
    await expect(stage()).rejects.toThrow(/template not found: sub\/dangling/);
  });
});
