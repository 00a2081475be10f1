import { chmodSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { extract, type Pack } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree, type TreeSpec } from '../../../test/helpers/tree.js';
import { buildTag, contextTar, readBuildContext } from './build-context.js';

const trees: Tree[] = [];
afterEach(() => {
  for (const tree of trees.splice(0)) tree.remove();
});

function tree(spec: TreeSpec): Tree {
  const made = makeTree(spec);
  trees.push(made);
  return made;
}

/** The context of a folder whose Dockerfile sits at its top. */
async function paths(t: Tree, dockerfile = 'Dockerfile'): Promise<string[]> {
  const context = await readBuildContext(t.root, t.path(dockerfile));
  return context.entries.map((entry) => entry.path);
}

/** Every entry of a tar stream: its type, mode and bytes, by name. */
async function untar(stream: Pack) {
  const entries = new Map<
    string,
    { type: string; mode: number; data: Buffer; linkname?: string }
  >();
  const reader = extract();
  // pipe() would not pass a failure on: the reader would wait forever.
  stream.on('error', (error: Error) => reader.destroy(error));
  stream.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.set(entry.header.name, {
      type: entry.header.type ?? 'file',
      mode: (entry.header.mode ?? 0) & 0o777,
      data: Buffer.concat(chunks),
      ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}),
    });
  }
  return entries;
}

const MODEL_TREE: TreeSpec = {
  Dockerfile: 'FROM busybox:1.36\nCOPY . /app\n',
  'run.sh': 'echo run\n',
  'src/model.py': 'print(1)\n',
  'build/out.bin': 'compiled',
  'notes.log': 'debug',
};

describe('readBuildContext', () => {
  it('sends every file and folder when there is no .dockerignore', async () => {
    const t = tree(MODEL_TREE);
    const context = await readBuildContext(t.root, t.path('Dockerfile'));
    expect(context.dockerfile).toBe('Dockerfile');
    expect(context.entries).toEqual([
      { path: 'Dockerfile', kind: 'file' },
      { path: 'build', kind: 'directory' },
      { path: 'build/out.bin', kind: 'file' },
      { path: 'notes.log', kind: 'file' },
      { path: 'run.sh', kind: 'file' },
      { path: 'src', kind: 'directory' },
      { path: 'src/model.py', kind: 'file' },
    ]);
  });

  it.each<{ name: string; ignore: string; sent: string[] }>([
    {
      name: 'a file',
      ignore: 'notes.log\n',
      sent: [
        '.dockerignore',
        'Dockerfile',
        'build',
        'build/out.bin',
        'run.sh',
        'src',
        'src/model.py',
      ],
    },
    {
      name: 'a folder and all it holds',
      ignore: 'build\n',
      sent: ['.dockerignore', 'Dockerfile', 'notes.log', 'run.sh', 'src', 'src/model.py'],
    },
    {
      name: 'a wildcard, with comments and blank lines',
      ignore: '# logs are noise\n\n*.log\nbuild/\n',
      sent: ['.dockerignore', 'Dockerfile', 'run.sh', 'src', 'src/model.py'],
    },
    {
      name: 'everything but the Dockerfile and .dockerignore, which are always sent',
      ignore: '*\n',
      sent: ['.dockerignore', 'Dockerfile'],
    },
    {
      name: 'the Dockerfile and .dockerignore themselves: sent anyway',
      ignore: 'Dockerfile\n.dockerignore\nnotes.log\n',
      sent: [
        '.dockerignore',
        'Dockerfile',
        'build',
        'build/out.bin',
        'run.sh',
        'src',
        'src/model.py',
      ],
    },
  ])('leaves out $name', async ({ ignore, sent }) => {
    const t = tree({ ...MODEL_TREE, '.dockerignore': ignore });
    expect(await paths(t)).toEqual(sent);
  });

  it.each<{ name: string; ignore: string; sent: string[] }>([
    {
      name: 'a file inside an ignored folder',
      ignore: 'build\n!build/keep.txt\n',
      sent: ['.dockerignore', 'Dockerfile', 'build/keep.txt', 'drop.txt', 'keep.txt'],
    },
    {
      name: 'a file of that name in any folder, with **',
      ignore: 'build\n*.txt\n!**/keep.txt\n',
      sent: ['.dockerignore', 'Dockerfile', 'build/keep.txt', 'keep.txt'],
    },
    {
      name: 'a file an earlier wildcard excluded',
      ignore: '*.txt\n!keep.txt\n',
      sent: [
        '.dockerignore',
        'Dockerfile',
        'build',
        'build/drop.txt',
        'build/keep.txt',
        'keep.txt',
      ],
    },
  ])('brings back $name through an exception', async ({ ignore, sent }) => {
    const t = tree({
      Dockerfile: 'FROM busybox:1.36\n',
      '.dockerignore': ignore,
      'keep.txt': 'top',
      'drop.txt': 'top',
      'build/keep.txt': 'kept',
      'build/drop.txt': 'dropped',
    });
    expect(await paths(t)).toEqual(sent);
  });

  it('names a Dockerfile in a subfolder by its path in the context', async () => {
    const t = tree({ 'docker/model.Dockerfile': 'FROM busybox:1.36\n', 'run.sh': '' });
    const context = await readBuildContext(t.root, t.path('docker', 'model.Dockerfile'));
    expect(context.dockerfile).toBe('docker/model.Dockerfile');
    expect(context.entries.map((e) => e.path)).toContain('docker/model.Dockerfile');
  });

  it('sends a Dockerfile even from a folder that .dockerignore leaves out', async () => {
    const t = tree({
      'docker/Dockerfile': 'FROM busybox:1.36\n',
      'docker/notes.txt': '',
      'a.txt': '',
      '.dockerignore': 'docker\n',
    });
    const context = await readBuildContext(t.root, t.path('docker', 'Dockerfile'));
    expect(context.entries.map((e) => e.path)).toEqual([
      '.dockerignore',
      'a.txt',
      'docker/Dockerfile',
    ]);
  });

  it('names a Dockerfile outside the context folder .modelrun.Dockerfile', async () => {
    const t = tree({ 'Dockerfile.model': 'FROM busybox:1.36\n', 'context/run.sh': '' });
    const context = await readBuildContext(t.path('context'), t.path('Dockerfile.model'));
    expect(context.dockerfile).toBe('.modelrun.Dockerfile');
    expect(context.dockerfilePath).toBe(t.path('Dockerfile.model'));
    expect(context.entries).toEqual([{ path: 'run.sh', kind: 'file' }]);
  });

  it('lists a symbolic link as a link, not as what it points to', async () => {
    const t = tree({ Dockerfile: 'FROM busybox:1.36\n', 'data/input.nc': 'netcdf' });
    symlinkSync('data', t.path('current'));
    const context = await readBuildContext(t.root, t.path('Dockerfile'));
    expect(context.entries).toContainEqual({ path: 'current', kind: 'symlink' });
    expect(context.entries.map((e) => e.path)).not.toContain('current/input.nc');
  });
});

describe('buildTag', () => {
  const SPEC: TreeSpec = {
    Dockerfile: 'FROM busybox:1.36\nARG MODEL_VERSION\nCOPY . /app\n',
    '.dockerignore': 'scratch\n*.tmp\n',
    'run.sh': 'echo run\n',
    'src/model.py': 'print(1)\n',
    'scratch/big.nc': 'ignored',
    'cache.tmp': 'ignored',
  };
  const ARGS = { MODEL_VERSION: '7.14', MODE: 'hindcast' };

  async function tagOf(t: Tree, args: Record<string, string> = ARGS): Promise<string> {
    return buildTag(await readBuildContext(t.root, t.path('Dockerfile')), args);
  }

  it('is modelrun- and 12 hex digits, the same for the same inputs wherever the folder is', async () => {
    const first = tree(SPEC);
    const tag = await tagOf(first);
    expect(tag).toMatch(/^modelrun-[0-9a-f]{12}$/);
    expect(await tagOf(first)).toBe(tag);
    expect(await tagOf(tree(SPEC))).toBe(tag);
  });

  it('does not depend on the order the build args are given in', async () => {
    const t = tree(SPEC);
    expect(await tagOf(t, { MODE: 'hindcast', MODEL_VERSION: '7.14' })).toBe(await tagOf(t));
  });

  it.each<{ change: string; edit: (t: Tree) => void; args?: Record<string, string> }>([
    { change: 'the Dockerfile', edit: (t) => t.write('Dockerfile', 'FROM busybox:1.37\n') },
    { change: 'a build arg value', edit: () => {}, args: { ...ARGS, MODEL_VERSION: '7.15' } },
    { change: 'a new build arg', edit: () => {}, args: { ...ARGS, EXTRA: '1' } },
    { change: "a context file's bytes", edit: (t) => t.write('src/model.py', 'print(2)\n') },
    { change: "a context file's mode", edit: (t) => chmodSync(t.path('run.sh'), 0o700) },
    { change: 'a new context file', edit: (t) => t.write('src/extra.py', '') },
    { change: 'the .dockerignore', edit: (t) => t.write('.dockerignore', 'scratch\n') },
  ])('changes with $change', async ({ edit, args }) => {
    const t = tree(SPEC);
    const before = await tagOf(t);
    edit(t);
    expect(await tagOf(t, args)).not.toBe(before);
  });

  it.each<{ change: string; edit: (t: Tree) => void }>([
    { change: 'an ignored file changes', edit: (t) => t.write('scratch/big.nc', 'other bytes') },
    { change: 'an ignored file appears', edit: (t) => t.write('other.tmp', 'new') },
  ])('stays the same when $change', async ({ edit }) => {
    const t = tree(SPEC);
    const before = await tagOf(t);
    edit(t);
    expect(await tagOf(t)).toBe(before);
  });
});

describe('contextTar', () => {
  it('holds exactly the context: the names, kinds, modes and bytes of what is sent', async () => {
    const t = tree({
      ...MODEL_TREE,
      '.dockerignore': 'build\n*.log\n',
      'data/': '',
    });
    const binary = Buffer.from([0, 1, 2, 254, 255, 10, 13]);
    writeFileSync(t.path('data/forcing.bin'), binary);
    chmodSync(t.path('run.sh'), 0o755);
    chmodSync(t.path('src/model.py'), 0o640);
    symlinkSync('src/model.py', t.path('model.py'));

    const context = await readBuildContext(t.root, t.path('Dockerfile'));
    const entries = await untar(contextTar(context));

    expect([...entries.keys()].sort()).toEqual(context.entries.map((e) => e.path));
    expect([...entries.keys()].sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'data',
      'data/forcing.bin',
      'model.py',
      'run.sh',
      'src',
      'src/model.py',
    ]);
    for (const name of ['.dockerignore', 'Dockerfile', 'run.sh', 'src/model.py']) {
      expect(entries.get(name)?.type).toBe('file');
      expect(entries.get(name)?.data.equals(readFileSync(t.path(name)))).toBe(true);
    }
    expect(entries.get('data/forcing.bin')?.data.equals(binary)).toBe(true);
    expect(entries.get('run.sh')?.mode).toBe(0o755);
    expect(entries.get('src/model.py')?.mode).toBe(0o640);
    expect(entries.get('src')?.type).toBe('directory');
    expect(entries.get('model.py')).toMatchObject({ type: 'symlink', linkname: 'src/model.py' });
  });

  it('adds a Dockerfile from outside the folder as .modelrun.Dockerfile', async () => {
    const dockerfile = 'FROM busybox:1.36\nCOPY run.sh /app/\n';
    const t = tree({ 'docker/Dockerfile': dockerfile, 'context/run.sh': 'echo run\n' });
    const context = await readBuildContext(t.path('context'), t.path('docker', 'Dockerfile'));
    const entries = await untar(contextTar(context));
    expect([...entries.keys()].sort()).toEqual(['.modelrun.Dockerfile', 'run.sh']);
    expect(entries.get('.modelrun.Dockerfile')?.data.toString()).toBe(dockerfile);
    expect(entries.get('run.sh')?.data.toString()).toBe('echo run\n');
  });

  it('streams a file larger than the tar buffers intact', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const t = tree({ Dockerfile: 'FROM busybox:1.36\n' });
    writeFileSync(t.path('weights.bin'), big);
    const entries = await untar(contextTar(await readBuildContext(t.root, t.path('Dockerfile'))));
    expect(entries.get('weights.bin')?.data.equals(big)).toBe(true);
  });

  it('fails the stream when a file vanishes between listing and sending', async () => {
    const t = tree({ Dockerfile: 'FROM busybox:1.36\n', 'gone.txt': 'here' });
    const context = await readBuildContext(t.root, t.path('Dockerfile'));
    rmSync(t.path('gone.txt'));
    await expect(untar(contextTar(context))).rejects.toThrow(/ENOENT/);
  });
});
