import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asNobody, cannotBecomeNobody } from '../../test/helpers/as-nobody.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { archiveConfigSchema, archivePostprocessor } from './archive.js';
import { exactBytes, formatBytes, progressReporter } from './archive-writer.js';
import type { PostprocessContext, PostprocessorConfig } from './types.js';

const exec = promisify(execFile);

let tree: Tree;
let run: string;
let out: string;

beforeEach(() => {
  tree = makeTree({
    'run/out/nested/deep/a.txt': 'deep inside',
    'run/out/b.nc': 'b',
    'run/out/with space and\nnewline.txt': 'odd name',
    'run/out/b.tmp': 'scratch',
    'run/.dotfile': 'hidden',
    'run/empty.dat': '',
    'run/.modelrun/lock': '',
    'run/.modelrun/run.json': '{}',
    'run/.modelrun/history/earlier/run.json': '{}',
    'out/': '',
  });
  run = tree.path('run');
  out = tree.path('out');
  // Random bytes do not compress, and 3 MiB takes several reads of a stream.
  writeFileSync(tree.path('run/out/binary.bin'), randomBytes(3 * 1024 * 1024 + 17));
});
afterEach(() => tree.remove());

function contextFor(signal = new AbortController().signal): PostprocessContext {
  return { runId: 'run-1', stagingDir: run, outputDir: out, signal, progress: () => {}, env: {} };
}

function parse(fields: Record<string, unknown>) {
  const schema = archiveConfigSchema(diskPathContext(tree.root));
  return schema.parse({ type: 'archive', ...fields }) as PostprocessorConfig;
}

function archive(fields: Record<string, unknown>, context = contextFor()) {
  return archivePostprocessor.run(parse(fields), context);
}

/**
 * Every file under `dir`, as relative path → SHA-256 of its bytes: as strict
 * as comparing the bytes, and far faster for vitest to diff than a large Buffer.
 */
function readTree(dir: string, leaveOut = '.modelrun'): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = relative(dir, join(entry.parentPath, entry.name));
    if (entry.isFile() && !path.startsWith(leaveOut))
      files.set(path, sha256(readFileSync(join(dir, path))));
  }
  return files;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function extract(format: string, file: string): Promise<string> {
  const into = tree.path('extracted');
  mkdirSync(into);
  if (format === 'zip') await exec('python3', ['-m', 'zipfile', '-e', file, into]);
  else await exec('tar', ['xzf', file, '-C', into]);
  return into;
}

async function entries(format: string, file: string): Promise<string[]> {
  const { stdout } =
    format === 'zip'
      ? await exec('python3', [
          '-c',
          'import json, sys, zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))',
          file,
        ])
      : await exec('tar', ['tzf', file]);
  // tar tzf writes one name a line, quoting a newline in a name as \n. Folders end in "/".
  const names: string[] =
    format === 'zip' ? JSON.parse(stdout) : stdout.split('\n').filter((line) => line !== '');
  return names.filter((name) => !name.endsWith('/'));
}

describe.each(['tar.gz', 'zip'])('archive as %s', (format) => {
  it('holds every file byte for byte, under paths relative to the run directory', async () => {
    const outcome = await archive({ format });
    const file = join(out, `run-1.${format}`);
    expect(outcome).toEqual({
      status: 'succeeded',
      summary: `wrote ${file} (7 files, ${formatBytes(statSync(file).size)})`,
      details: {
        path: file,
        format,
        files: 7,
        symlinks: 0,
        bytes: statSync(file).size,
        left_out: [],
      },
    });
    expect(readTree(await extract(format, file))).toEqual(readTree(run));
    for (const entry of await entries(format, file)) {
      expect(entry).not.toMatch(/^\//);
      expect(entry.split('/')).not.toContain('..');
    }
  });

  it('leaves out .modelrun/ and takes only what include and exclude select', async () => {
    await archive({
      format,
      include: ['out/**', '.modelrun/**'],
      exclude: ['**/*.tmp', '**/*newline*'],
    });
    expect((await entries(format, join(out, `run-1.${format}`))).sort()).toEqual([
      'out/b.nc',
      'out/binary.bin',
      'out/nested/deep/a.txt',
    ]);
  });

  it('never takes itself in when the destination is inside the run directory', async () => {
    const destination = `run/archives/self.${format}`;
    await archive({ format, destination });
    // The second time the first archive is there to be found.
    const outcome = await archive({ format, destination });
    expect(outcome.details).toMatchObject({ files: 7 });
    const names = await entries(format, tree.path(destination));
    expect(names.filter((name) => name.startsWith('archives/'))).toEqual([]);
    expect(readdirSync(tree.path('run/archives'))).toEqual([`self.${format}`]);
  });
});

describe('archive', () => {
  it('creates the folders of the destination, resolved against the config folder', async () => {
    const outcome = await archive({ destination: 'a/b/c.tar.gz' });
    expect(outcome.details).toMatchObject({ path: tree.path('a/b/c.tar.gz'), files: 7 });
    expect(statSync(tree.path('a/b/c.tar.gz')).isFile()).toBe(true);
  });

  it('refuses a destination in the run directory through a symlinked folder the model made', async () => {
    mkdirSync(tree.path('victim'));
    symlinkSync(tree.path('victim'), tree.path('run/evil'));
    const outcome = await archive({ destination: 'run/evil/arch.tar.gz' });
    expect(outcome).toEqual({
      status: 'failed',
      summary: `the destination ${tree.path('run/evil/arch.tar.gz')} goes through the symlink evil in the run directory, and an archive is written there only through real folders; give a path without links, or one outside the run directory`,
    });
    expect(readdirSync(tree.path('victim'))).toEqual([]);
  });

  it("writes through a symlinked folder of the user's outside the run directory", async () => {
    symlinkSync(out, tree.path('alias'));
    const outcome = await archive({ destination: 'alias/arch.tar.gz' });
    expect(outcome.status).toBe('succeeded');
    expect(statSync(join(out, 'arch.tar.gz')).isFile()).toBe(true);
  });

  it('fails, leaving nothing behind, when the run was already interrupted', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await archive({}, contextFor(controller.signal));
    expect(outcome).toEqual({
      status: 'failed',
      summary: 'the run was interrupted before the archive was started',
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('stops in the middle and removes the partial archive when the run is interrupted', async () => {
    // Big enough that gzip is still busy when the temporary file appears.
    writeFileSync(tree.path('run/big.bin'), randomBytes(64 * 1024 * 1024));
    const controller = new AbortController();
    const watcher = watch(out, (_event, name) => {
      if (name?.endsWith('.partial')) controller.abort();
    });
    const outcome = await archive({}, contextFor(controller.signal)).finally(() => watcher.close());
    expect(outcome).toEqual({
      status: 'failed',
      summary: 'stopped because the run was interrupted; no archive was written',
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    ['the run directory is missing', { run: 'gone' }, 'does not exist'],
    [
      'the destination folder cannot be made',
      { destination: 'run/empty.dat/x.tar.gz' },
      'cannot create the folder',
    ],
    [
      'nothing matches',
      { include: ['*.nothing'] },
      'no files in the run directory match ["*.nothing"]',
    ],
  ])('fails with a message when %s', async (_name, setup, message) => {
    const { run: runName, ...fields } = setup as { run?: string } & Record<string, unknown>;
    if (runName !== undefined) run = tree.path(runName);
    const outcome = await archive(fields);
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toContain(message);
  });

  it.each([
    ['a folder', (path: string) => mkdirSync(path), 'is a folder; give a file name in it'],
    [
      'a FIFO, as a device such as /dev/full would be',
      (path: string) => execFileSync('mkfifo', [path]),
      'is not a regular file (a device, FIFO or socket)',
    ],
    [
      'a symlink',
      (path: string) => symlinkSync(tree.path('run/out/b.nc'), path),
      'is a symlink, which modelrun does not write through',
    ],
    [
      'a file that modelrun did not write',
      (path: string) => writeFileSync(path, 'the only copy of my thesis'),
      'already exists and is not an archive modelrun wrote, so it is not overwritten; remove or rename it, or choose another destination',
    ],
  ])('fails, changing nothing, when the destination is %s', async (_name, make, message) => {
    const destination = tree.path('taken');
    make(destination);
    const { ino, mode, size, mtimeMs } = lstatSync(destination);
    const outcome = await archive({ destination });
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toContain(`the destination ${destination} ${message}`);
    expect(lstatSync(destination)).toMatchObject({ ino, mode, size, mtimeMs });
    expect(readdirSync(tree.root).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it.each(['tar.gz', 'zip'])(
    'replaces a %s archive that modelrun wrote, for another run too',
    async (format) => {
      const destination = tree.path(`latest.${format}`);
      expect((await archive({ format, destination })).status).toBe('succeeded');
      const later = await archivePostprocessor.run(parse({ format, destination }), {
        ...contextFor(),
        runId: 'run-2',
      });
      expect(later.status).toBe('succeeded');
    },
  );

  it.skipIf(cannotBecomeNobody())('fails with a message when the folder is read-only', async () => {
    chmodSync(tree.root, 0o755);
    const outcome = await asNobody(() => archive({}));
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toMatch(/^could not write .*run-1\.tar\.gz: EACCES/);
  });

  it('refuses a name with a backslash in a zip rather than store it under another path', async () => {
    writeFileSync(tree.path('run/out/back\\slash.nc'), 'a backslash in its name');
    expect(await archive({ format: 'zip' })).toEqual({
      status: 'failed',
      summary:
        'cannot archive "out/back\\\\slash.nc" in a zip: a backslash in a name would become a folder separator; use format tar.gz, rename the file or leave it out with exclude',
    });
    expect(readdirSync(out)).toEqual([]);
  });

  it('keeps a name with a backslash in a tar.gz, where it is an ordinary character', async () => {
    writeFileSync(tree.path('run/out/back\\slash.nc'), 'a backslash in its name');
    await archive({});
    expect(await entries('tar.gz', join(out, 'run-1.tar.gz'))).toContain('out/back\\\\slash.nc');
  });

  it.each([
    [{}, { format: 'tar.gz', include: ['**'], exclude: [] }],
    [
      { format: 'zip', destination: '/tmp/x.zip' },
      { format: 'zip', destination: '/tmp/x.zip' },
    ],
  ])('parses %j with defaults filled in', (fields, expected) => {
    expect(parse(fields)).toMatchObject(expected);
  });

  it('rejects an unknown format', () => {
    const result = archiveConfigSchema(diskPathContext(tree.root)).safeParse({
      type: 'archive',
      format: 'rar',
    });
    expect(result.error?.issues[0]?.message).toBe('must be "tar.gz" or "zip"; got "rar"');
  });
});

describe('exactBytes', () => {
  it.each([
    ['passes on a file of the stated size', 4, ['ab', 'cd'], 'abcd'],
    ['cuts a file that grew at the stated size', 3, ['ab', 'cd'], 'abc'],
    ['passes on an empty file', 0, [], ''],
  ])('%s', async (_name, size, chunks, expected) => {
    const body = Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(exactBytes(size));
    expect(Buffer.concat(await body.toArray()).toString()).toBe(expected);
  });

  it('fails instead of ending when the file shrank', async () => {
    const body = Readable.from([Buffer.from('ab')]).pipe(exactBytes(4));
    await expect(body.toArray()).rejects.toThrow(
      'it shrank from 4 to 2 bytes while it was being archived',
    );
  });
});

describe('progressReporter', () => {
  it('reports at most once a second, and not at all in the first second', () => {
    let time = 0;
    const lines: string[] = [];
    const progress = progressReporter(
      3 * 1024 ** 3,
      (line) => lines.push(line),
      () => time,
    );
    const steps: [number, number, string[]][] = [
      [500, 1024 ** 3, []],
      [1000, 0.2 * 1024 ** 3, ['1.2 GiB of 3.0 GiB (40%)']],
      [1900, 0.3 * 1024 ** 3, []],
      [2000, 0.5 * 1024 ** 3, ['2.0 GiB of 3.0 GiB (66%)']],
    ];
    for (const [at, bytes, expected] of steps) {
      time = at;
      lines.length = 0;
      progress(bytes);
      expect(lines).toEqual(expected);
    }
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [3.1 * 1024 ** 2, '3.1 MiB'],
    [1.2 * 1024 ** 3, '1.2 GiB'],
    [5 * 1024 ** 4, '5.0 TiB'],
  ])('writes %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
