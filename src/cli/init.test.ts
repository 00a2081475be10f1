import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { UsageError } from '../errors.js';
import { runInit } from './init.js';
import { Output } from './output.js';
import { STARTER_DIR, STARTER_FILES } from './starter-files.js';

let tree: Tree;
afterEach(() => tree?.remove());

function quiet() {
  let text = '';
  const sink = { write: (chunk: string) => (text += chunk) };
  const output = new Output({ stdout: sink, stderr: sink, env: {}, color: false, verbose: false });
  return { output, text: () => text };
}

async function init(dir: string): Promise<{ code: number | UsageError; text: string }> {
  const { output, text } = quiet();
  const code = await runInit({ dir, json: false }, { output, cwd: tree.root }).catch(
    (error: UsageError) => error,
  );
  return { code, text: text() };
}

/** Every path under `root`, folders ending in /, so a test can say nothing was written. */
function listing(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .map((e) => `${join(e.parentPath, e.name).slice(root.length + 1)}${e.isDirectory() ? '/' : ''}`)
    .sort();
}

const written = STARTER_FILES.map((file) => file.to);

describe('modelrun init', () => {
  it.each([
    [
      'a family emoji joined by zero-width joiners',
      '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}-family',
    ],
    ['Persian with a zero-width non-joiner', '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645'],
    [
      'a flag of emoji tag characters',
      '\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}',
    ],
    ['a soft hyphen', 'hydro\u00adlogy'],
  ])('makes a folder named with %s', async (_name, dir) => {
    tree = makeTree();
    const { code, text } = await init(dir);
    expect(code).toBe(0);
    expect(existsSync(join(tree.path(dir), 'model.yml'))).toBe(true);
    expect(text).toContain(dir);
  });

  it('writes every starter file into a new folder, and tells the next command', async () => {
    tree = makeTree();
    const { code, text } = await init('proj');
    expect(code).toBe(0);
    expect(listing(tree.path('proj'))).toEqual([...written, 'template/'].sort());
    expect(text).toContain('next: cd proj && modelrun run model.yml');
  });

  it('writes the files as they are in starter/, only the modeline pointing at an existing schema', async () => {
    tree = makeTree();
    await init('a/b/proj');
    for (const file of STARTER_FILES) {
      const target = tree.path('a/b/proj', file.to);
      const original = readFileSync(join(STARTER_DIR, file.from), 'utf8');
      const text = readFileSync(target, 'utf8');
      if (file.schema === undefined) {
        expect(text).toBe(original);
        continue;
      }
      const [first, ...rest] = text.split('\n');
      expect(rest).toEqual(original.split('\n').slice(1));
      const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(first ?? '')?.[1] ?? '';
      expect(ref).toMatch(new RegExp(`${file.schema}\\.schema\\.json$`));
      if (!/^https?:/.test(ref))
        expect(existsSync(isAbsolute(ref) ? ref : resolve(dirname(target), ref))).toBe(true);
    }
  });

  it('writes into the current folder by default, beside files of its own', async () => {
    tree = makeTree({ 'notes.txt': 'mine', 'template/': '' });
    const { code, text } = await init('.');
    expect(code).toBe(0);
    expect(readFileSync(tree.path('notes.txt'), 'utf8')).toBe('mine');
    expect(text).toContain('in the current folder');
    expect(text).toContain('next: modelrun run model.yml');
  });

  it.each([
    ['a file', (t: Tree) => t.write('proj/model.yml', 'mine'), 'proj/model.yml already exists'],
    [
      'an empty file deep down',
      (t: Tree) => t.write('proj/template/model.sh', ''),
      'proj/template/model.sh already exists',
    ],
    [
      'a symlink to a file outside',
      (t: Tree) => {
        t.write('outside.txt', 'not modelrun’s');
        t.write('proj/keep', '');
        symlinkSync(t.path('outside.txt'), t.path('proj/local.yml'));
      },
      /proj\/local\.yml \(a symlink to .*outside\.txt\)/,
    ],
    [
      'a broken symlink',
      (t: Tree) => {
        t.write('proj/keep', '');
        symlinkSync(t.path('nowhere'), t.path('proj/README.md'));
      },
      /proj\/README\.md \(a symlink to .*nowhere\)/,
    ],
    [
      'a symlink where the template folder goes',
      (t: Tree) => {
        t.write('elsewhere/x', '');
        t.write('proj/keep', '');
        symlinkSync(t.path('elsewhere'), t.path('proj/template'));
      },
      /proj\/template \(a symlink to .*elsewhere\)/,
    ],
    [
      'a file where the template folder goes',
      (t: Tree) => t.write('proj/template', ''),
      'proj/template (a file, where a folder goes)',
    ],
    [
      'a folder where a file goes',
      (t: Tree) => t.write('proj/.gitignore/x', ''),
      'proj/.gitignore (a folder)',
    ],
  ])('refuses %s in the way and writes nothing', async (_name, lay, says) => {
    tree = makeTree();
    lay(tree);
    const before = listing(tree.root);
    const { code } = await init('proj');
    expect(code).toBeInstanceOf(UsageError);
    expect((code as UsageError).message).toMatch(says);
    expect((code as UsageError).message).toContain('never overwrites');
    expect((code as UsageError).hint).toMatch(/new or empty folder/);
    expect(listing(tree.root)).toEqual(before);
  });

  it('names every file in the way, not only the first', async () => {
    tree = makeTree({ 'proj/model.yml': '', 'proj/README.md': '' });
    const { code } = await init('proj');
    expect((code as UsageError).message).toMatch(
      /^2 starter files are in the way: proj\/README\.md, proj\/model\.yml;/,
    );
  });

  it.each([
    ['a file', (t: Tree) => t.write('proj', 'mine'), 'proj', 'proj is a file, not a folder'],
    [
      'under a file',
      (t: Tree) => t.write('proj', 'mine'),
      'proj/sub',
      'proj/sub: a folder on its path is a file',
    ],
    [
      'a broken symlink',
      (t: Tree) => symlinkSync(t.path('gone'), t.path('proj')),
      'proj',
      /proj is a symlink to nothing \(to .*gone\)/,
    ],
    ['empty', () => undefined, '', 'the project folder is empty'],
    ['named with an escape sequence', () => undefined, 'p\x1b[2J', 'p\\x1b[2J has control'],
    ['named with a newline', () => undefined, 'p\nq', 'p\\x0aq has control'],
    [
      'named with a right-to-left override',
      () => undefined,
      'cod\u202egnp.exe',
      'cod\\u202egnp.exe has invisible formatting characters',
    ],
    [
      'named with a zero-width space',
      () => undefined,
      'a\u200bb',
      'a\\u200bb has invisible formatting',
    ],
    ['-, which means standard input elsewhere', () => undefined, '-', /not - \(standard input\)/],
    ['a device', () => undefined, '/dev/full', '/dev/full is a device, not a folder'],
    [
      'under a symlink to nothing',
      (t: Tree) => symlinkSync('/nonexistent-modelrun/deeper', t.path('bp')),
      'bp/x',
      /^a folder on the way to bp\/x, .*bp is a symlink to nothing \(to \/nonexistent-modelrun\/deeper\)$/,
    ],
    [
      'under /proc',
      () => undefined,
      '/proc/self/x',
      "/proc/self is on the kernel's proc filesystem, where no folder can be made",
    ],
  ])('refuses a DIR that is %s', async (_name, lay, dir, says) => {
    tree = makeTree();
    lay(tree);
    const before = listing(tree.root);
    const { code } = await init(dir);
    expect(code).toBeInstanceOf(UsageError);
    expect((code as UsageError).message).toMatch(says);
    expect(listing(tree.root)).toEqual(before);
  });

  it('writes into a DIR that is a symlink to a folder, since the user named it', async () => {
    tree = makeTree({ 'real/': '' });
    symlinkSync(tree.path('real'), tree.path('proj'));
    expect((await init('proj')).code).toBe(0);
    expect(listing(tree.path('real'))).toEqual([...written, 'template/'].sort());
  });

  it.each([
    ['-P', 'next: cd ./-P && modelrun run model.yml'],
    ['./-', 'next: cd ./- && modelrun run model.yml'],
    ["-a b'", "next: cd './-a b'\\''' && modelrun run model.yml"],
  ])('writes a DIR of %s so that cd takes it for a folder, not an option', async (dir, says) => {
    tree = makeTree();
    const { code, text } = await init(dir);
    expect(code).toBe(0);
    expect(text).toContain(says);
  });

  it('quotes a DIR with spaces in the next command', async () => {
    tree = makeTree();
    const { text } = await init("my model's");
    expect(text).toContain(`next: cd 'my model'\\''s' && modelrun run model.yml`);
  });

  it('ships no starter file that is not in the list, nor leaves one out', () => {
    // simulations/ is what running the starter in place leaves; it is git-ignored.
    const shipped = listing(STARTER_DIR).filter(
      (p) => !p.endsWith('/') && !p.startsWith('simulations/'),
    );
    expect(shipped).toEqual(STARTER_FILES.map((file) => file.from).sort());
  });
});
