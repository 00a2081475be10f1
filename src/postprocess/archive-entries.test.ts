import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createReadStream,
  mkdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asNobody, cannotBecomeNobody } from '../../test/helpers/as-nobody.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { archiveConfigSchema, archivePostprocessor } from './archive.js';
import type { PostprocessContext, PostprocessorConfig } from './types.js';

const exec = promisify(execFile);

/** What an archive says of one entry. */
interface Listed {
  name: string;
  type: string;
  mode: number;
  uid?: number;
  gid?: number;
  linkname?: string;
}

let tree: Tree;
let run: string;
let out: string;

beforeEach(() => {
  tree = makeTree({ 'run/out/a.nc': 'a', 'out/': '' });
  run = tree.path('run');
  out = tree.path('out');
});
afterEach(() => tree.remove());

function archive(fields: Record<string, unknown>) {
  const schema = archiveConfigSchema(diskPathContext(tree.root));
  const config = schema.parse({ type: 'archive', ...fields }) as PostprocessorConfig;
  const context: PostprocessContext = {
    runId: 'run-1',
    stagingDir: run,
    outputDir: out,
    signal: new AbortController().signal,
    progress: () => {},
    env: {},
  };
  return archivePostprocessor.run(config, context);
}

async function listTar(file: string): Promise<Listed[]> {
  const listed: Listed[] = [];
  const reader = extract();
  reader.on('entry', (header, stream, next) => {
    const { name, type, mode, uid, gid, linkname } = header;
    listed.push({
      name,
      type: type ?? '',
      mode: mode ?? -1,
      uid,
      gid,
      ...(linkname ? { linkname } : {}),
    });
    stream.on('end', next).resume();
  });
  const done = new Promise<void>((resolve, reject) =>
    reader.on('finish', () => resolve()).on('error', reject),
  );
  createReadStream(file).pipe(createGunzip()).pipe(reader);
  await done;
  return listed;
}

const ZIP_LIST = `
import json, stat, sys, zipfile
entries = []
for info in zipfile.ZipFile(sys.argv[1]).infolist():
    mode = info.external_attr >> 16
    kind = "symlink" if stat.S_ISLNK(mode) else "directory" if info.is_dir() else "file"
    entry = {"name": info.filename, "type": kind, "mode": stat.S_IMODE(mode)}
    if kind == "symlink":
        entry["linkname"] = zipfile.ZipFile(sys.argv[1]).read(info).decode()
    entries.append(entry)
print(json.dumps(entries))
`;

async function list(format: string, file: string): Promise<Listed[]> {
  if (format === 'tar.gz') return listTar(file);
  const { stdout } = await exec('python3', ['-c', ZIP_LIST, file]);
  return JSON.parse(stdout);
}

describe.each(['tar.gz', 'zip'])('archive entries as %s', (format) => {
  const file = () => join(out, `run-1.${format}`);

  it('keeps permission bits, mode 000 too, and drops setuid, setgid and sticky', async () => {
    tree.write('run/bin/tool', '#!/bin/sh\n');
    tree.write('run/bin/locked', 'secret');
    chmodSync(tree.path('run/bin/tool'), 0o6755);
    chmodSync(tree.path('run/bin/locked'), 0o000);
    chmodSync(tree.path('run/bin'), 0o1750);
    await archive({ format });
    const modes = Object.fromEntries((await list(format, file())).map((e) => [e.name, e.mode]));
    expect(modes).toMatchObject({ 'bin/': 0o750, 'bin/tool': 0o755, 'bin/locked': 0o000 });
  });

  it('stores a link inside the run as a link, and leaves out and names one that leads out', async () => {
    tree.write('outside/big.dat', 'must not be read');
    symlinkSync(tree.path('outside/big.dat'), tree.path('run/out/big'));
    symlinkSync('../../outside/big.dat', tree.path('run/out/up'));
    symlinkSync('a.nc', tree.path('run/out/same'));
    symlinkSync('../out', tree.path('run/out/folder'));
    const outcome = await archive({ format });
    expect(outcome.summary).toMatch(
      new RegExp(
        String.raw`\(1 file, 2 symlinks kept as links \(out/folder → \.\./out, out/same → a\.nc\), [\d.]+ \w+\); ` +
          String.raw`left out 2: out/big \(symlink to .*/outside/big\.dat, outside the run directory; never followed\), ` +
          String.raw`out/up \(symlink to \.\./\.\./outside/big\.dat, outside the run directory; never followed\)$`,
      ),
    );
    expect(outcome.details).toMatchObject({ files: 1, symlinks: 2 });
    const links = (await list(format, file())).filter((entry) => entry.type === 'symlink');
    expect(links.map(({ name, linkname }) => ({ name, linkname }))).toEqual([
      { name: 'out/folder', linkname: '../out' },
      { name: 'out/same', linkname: 'a.nc' },
    ]);
  });

  it('keeps no link that leads out once extracted: none through a link, none to a link that leads out', async () => {
    tree.write('x/secret-outside', 'must not be reached');
    symlinkSync('.', tree.path('run/b'));
    symlinkSync('b/../secret-outside', tree.path('run/esc'));
    symlinkSync('/etc/passwd', tree.path('run/lnkabs'));
    symlinkSync('lnkabs', tree.path('run/lnkchain'));
    symlinkSync('loop2', tree.path('run/loop1'));
    symlinkSync('loop1', tree.path('run/loop2'));
    symlinkSync('a.nc', tree.path('run/out/same'));
    symlinkSync('same', tree.path('run/out/chain'));
    const outcome = await archive({ format });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.summary).toContain(
      'esc (symlink to b/../secret-outside, through the symlink b, so it could lead anywhere once extracted; never followed)',
    );
    expect(outcome.summary).toContain(
      'lnkchain (symlink to lnkabs, to the symlink lnkabs, which leads out; never followed)',
    );
    const links = (await list(format, file())).filter((entry) => entry.type === 'symlink');
    expect(links.map((entry) => entry.name)).toEqual(['b', 'out/chain', 'out/same']);

    // Extracted by the real tools, beside the file the escaping link aimed at.
    const into = tree.path('x/extracted');
    mkdirSync(into);
    if (format === 'zip') await exec('unzip', ['-q', file(), '-d', into]);
    else await exec('tar', ['xzf', file(), '-C', into]);
    for (const name of ['b', 'esc', 'lnkabs', 'lnkchain', 'out/same', 'out/chain']) {
      const resolved = await exec('readlink', ['-m', join(into, name)]);
      const where = resolved.stdout.trim();
      expect(where === into || where.startsWith(`${into}/`), `${name} → ${where}`).toBe(true);
    }
  });

  it('leaves out a FIFO and a name that is not UTF-8, and names them, escaped', async () => {
    await exec('mkfifo', [tree.path('run/out/pipe')]);
    writeFileSync(Buffer.from(`${run}/out/bad\x80\x1b.txt`, 'latin1'), 'odd bytes');
    const outcome = await archive({ format });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.summary).toMatch(
      /\(1 file, [\d.]+ \w+\); left out 2: out\/bad\\x80\\x1b\.txt \(name is not UTF-8\), out\/pipe \(a FIFO, not a regular file\)$/,
    );
    expect(outcome.details).toMatchObject({
      files: 1,
      left_out: [
        { path: 'out/bad\\x80\\x1b.txt', reason: 'name is not UTF-8' },
        { path: 'out/pipe', reason: 'a FIFO, not a regular file' },
      ],
    });
    expect((await list(format, file())).map((entry) => entry.name)).toEqual(['out/', 'out/a.nc']);
  });
});

describe('archive entries as tar.gz', () => {
  it('records the real owner as numbers, not root', async () => {
    chownSync(tree.path('run/out/a.nc'), 1234, 5678);
    chownSync(tree.path('run/out'), 4321, 8765);
    await archive({});
    const listed = await listTar(join(out, 'run-1.tar.gz'));
    expect(listed.map(({ name, uid, gid }) => ({ name, uid, gid }))).toEqual([
      { name: 'out/', uid: 4321, gid: 8765 },
      { name: 'out/a.nc', uid: 1234, gid: 5678 },
    ]);
    const { stdout } = await exec('tar', ['-tvzf', join(out, 'run-1.tar.gz')]);
    expect(stdout).toContain(' 1234/5678 ');
  });
});

describe.skipIf(cannotBecomeNobody())('archive as a user who cannot read everything', () => {
  beforeEach(() => {
    chmodSync(tree.root, 0o755);
    chmodSync(out, 0o777);
    tree.write('run/out/private.nc', 'no');
    chmodSync(tree.path('run/out/private.nc'), 0o600);
    mkdirSync(tree.path('run/locked'));
    tree.write('run/locked/inside.nc', 'unseen');
    chmodSync(tree.path('run/locked'), 0o700);
  });

  it('leaves out an unreadable file and an unreadable folder, and names them', async () => {
    const outcome = await asNobody(() => archive({}));
    expect(outcome.status).toBe('succeeded');
    expect(outcome.details).toMatchObject({
      files: 1,
      left_out: [
        { path: 'locked', reason: 'folder cannot be read: EACCES' },
        { path: 'out/private.nc', reason: 'cannot be read: EACCES' },
      ],
    });
    expect(outcome.summary).toContain(
      'left out 2: locked (folder cannot be read: EACCES), out/private.nc (cannot be read: EACCES)',
    );
  });
});
