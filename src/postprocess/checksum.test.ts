import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asNobody, cannotBecomeNobody } from '../../test/helpers/as-nobody.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { checksumConfigSchema, checksumPostprocessor } from './checksum.js';
import { checksumLine } from './checksum-run.js';
import type { PostprocessContext, PostprocessorConfig } from './types.js';

const exec = promisify(execFile);

/** Names that GNU sha256sum writes plainly, and ones it escapes. */
const NAMES = [
  'a.txt',
  'out/with space.nc',
  'out/back\\slash.nc',
  'out/new\nline.nc',
  'out/carriage\r',
  '.dotfile',
  'empty',
];

let tree: Tree;
let run: string;

beforeEach(() => {
  tree = makeTree({
    ...Object.fromEntries(NAMES.map((name) => [`run/${name}`, name === 'empty' ? '' : `${name}!`])),
    'run/.modelrun/run.json': '{}',
  });
  run = tree.path('run');
});
afterEach(() => tree.remove());

function schema() {
  return checksumConfigSchema(diskPathContext(tree.root));
}

function checksum(fields: Record<string, unknown> = {}, signal = new AbortController().signal) {
  const config = schema().parse({ type: 'checksum', ...fields }) as PostprocessorConfig;
  const context: PostprocessContext = {
    runId: 'run-1',
    stagingDir: run,
    outputDir: tree.root,
    signal,
    progress: () => {},
    env: {},
  };
  return checksumPostprocessor.run(config, context);
}

/** `sha256sum -c` in the run directory, as a user would check the outputs. */
async function check(file = 'SHA256SUMS') {
  return exec('sha256sum', ['-c', file], { cwd: run }).then(
    ({ stdout }) => ({ code: 0, lines: stdout.trimEnd().split('\n') }),
    (error: { code: number; stdout: string }) => ({
      code: error.code,
      lines: error.stdout.trimEnd().split('\n'),
    }),
  );
}

describe('checksum', () => {
  it('writes a file that sha256sum -c accepts, one OK line per output', async () => {
    expect(await checksum()).toEqual({
      status: 'succeeded',
      summary: 'wrote SHA256SUMS (7 files)',
      details: { path: tree.path('run/SHA256SUMS'), files: 7, left_out: [] },
    });
    const { code, lines } = await check();
    expect(code).toBe(0);
    expect(lines).toHaveLength(NAMES.length);
    for (const line of lines) expect(line).toMatch(/: OK$/);
  });

  it('writes exactly what GNU sha256sum writes, escapes and order included', async () => {
    await checksum();
    const names = [...NAMES].sort();
    const { stdout } = await exec('sha256sum', ['--', ...names], { cwd: run });
    expect(readFileSync(tree.path('run/SHA256SUMS'), 'utf8')).toBe(stdout);
  });

  it('lets sha256sum -c find a file that changed', async () => {
    await checksum();
    writeFileSync(tree.path('run/a.txt'), 'tampered');
    const { code, lines } = await check();
    expect(code).toBe(1);
    expect(lines).toContain('a.txt: FAILED');
  });

  it('leaves out itself, .modelrun/ and what exclude names, even when run again', async () => {
    const fields = { include: ['**'], exclude: ['out/**'], output: 'sums/outputs.sha256' };
    await checksum(fields);
    const outcome = await checksum(fields);
    expect(outcome.summary).toBe('wrote sums/outputs.sha256 (3 files)');
    const { code, lines } = await check('sums/outputs.sha256');
    expect(code).toBe(0);
    expect(lines).toEqual(['.dotfile: OK', 'a.txt: OK', 'empty: OK']);
  });

  it.each([
    ['SHA256SUMS', 'precious\n'],
    ['a.txt', 'a.txt!'],
  ])(
    'keeps a file of the model named like output (%s), and says to choose another',
    async (output, kept) => {
      if (output === 'SHA256SUMS') writeFileSync(tree.path('run/SHA256SUMS'), kept);
      const outcome = await checksum({ output });
      expect(outcome).toEqual({
        status: 'failed',
        summary: `output "${output}" already exists in the run directory and is not a checksum file modelrun wrote, so it is not overwritten; set output to another name, such as "checksums/SHA256SUMS", or remove the file`,
      });
      expect(readFileSync(tree.path('run', output), 'utf8')).toBe(kept);
    },
  );

  it('keeps its own checksum file once the model has changed it', async () => {
    await checksum();
    writeFileSync(tree.path('run/SHA256SUMS'), 'edited\n');
    expect((await checksum()).status).toBe('failed');
    expect(readFileSync(tree.path('run/SHA256SUMS'), 'utf8')).toBe('edited\n');
  });

  it('fails, writing nothing, when the run was interrupted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await checksum({}, controller.signal)).toEqual({
      status: 'failed',
      summary: 'stopped because the run was interrupted; nothing was written',
    });
    expect(readdirSync(run).filter((name) => name.includes('SHA256SUMS'))).toEqual([]);
  });

  it('fails when the run directory is missing', async () => {
    run = tree.path('gone');
    const outcome = await checksum();
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toContain('does not exist');
    expect(existsSync(run)).toBe(false);
  });
});

describe('checksum and what it cannot list', () => {
  it('leaves out symlinks, a FIFO and a name that is not UTF-8, and names each', async () => {
    symlinkSync('/etc/hostname', tree.path('run/link'));
    symlinkSync('pipe', tree.path('run/near'));
    await exec('mkfifo', [tree.path('run/pipe')]);
    writeFileSync(Buffer.from(`${run}/bad\xff.nc`, 'latin1'), 'x');
    const outcome = await checksum();
    expect(outcome.status).toBe('succeeded');
    expect(outcome.summary).toBe(
      'wrote SHA256SUMS (7 files); left out 4: bad\\xff.nc (name is not UTF-8), link (symlink to /etc/hostname, outside the run directory; never followed), near (symlink to pipe; archived as a link, not checksummed), pipe (a FIFO, not a regular file)',
    );
    expect(outcome.details).toMatchObject({
      files: 7,
      left_out: [
        { path: 'bad\\xff.nc', reason: 'name is not UTF-8' },
        {
          path: 'link',
          reason: 'symlink to /etc/hostname, outside the run directory; never followed',
        },
        { path: 'near', reason: 'symlink to pipe; archived as a link, not checksummed' },
        { path: 'pipe', reason: 'a FIFO, not a regular file' },
      ],
    });
    expect((await check()).code).toBe(0);
  });

  it.skipIf(cannotBecomeNobody())('leaves out a file it may not read, and names it', async () => {
    chmodSync(tree.root, 0o755);
    chmodSync(run, 0o777);
    chmodSync(tree.path('run/a.txt'), 0o600);
    const outcome = await asNobody(() => checksum());
    expect(outcome.status).toBe('succeeded');
    expect(outcome.summary).toBe(
      'wrote SHA256SUMS (6 files); left out 1: a.txt (cannot be read: EACCES)',
    );
  });

  it('refuses to write through a symlinked folder that leads out of the run', async () => {
    mkdirSync(tree.path('elsewhere'));
    symlinkSync(tree.path('elsewhere'), tree.path('run/sums'));
    const outcome = await checksum({ output: 'sums/SHA256SUMS' });
    expect(outcome).toEqual({
      status: 'failed',
      summary:
        'output "sums/SHA256SUMS" goes through the symlink sums, and the checksum file is only written inside the run directory; give a path without links',
    });
    expect(readdirSync(tree.path('elsewhere'))).toEqual([]);
  });

  it.each([
    ['a folder', 'out', 'output "out" is a folder in the run directory'],
    ['a symlink', 'link', 'output "link" goes through the symlink link'],
    ['under a file', 'a.txt/SUMS', 'output "a.txt/SUMS" needs a.txt to be a folder'],
  ])('fails with a message when output is %s', async (_name, output, message) => {
    symlinkSync(tree.path('outside'), tree.path('run/link'));
    const outcome = await checksum({ output });
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toContain(message);
    expect(existsSync(tree.path('outside'))).toBe(false);
  });
});

describe('checksum config', () => {
  it.each([
    ['SHA256SUMS', 'SHA256SUMS'],
    ['./sums/SHA256SUMS', 'sums/SHA256SUMS'],
    ['checksums//outputs.sha256', 'checksums/outputs.sha256'],
  ])('takes output %j as %j', (output, expected) => {
    expect(schema().parse({ type: 'checksum', output }).output).toBe(expected);
  });

  it('defaults output to SHA256SUMS', () => {
    expect(schema().parse({ type: 'checksum' }).output).toBe('SHA256SUMS');
  });

  it.each([
    ['/tmp/SHA256SUMS', '"/tmp/SHA256SUMS" is absolute'],
    ['~/SHA256SUMS', '"~/SHA256SUMS" points into the home folder'],
    ['.modelrun/SHA256SUMS', 'inside .modelrun/, which modelrun keeps for itself'],
    ['../SHA256SUMS', '"../SHA256SUMS" uses ".."'],
    ['sums/../../SHA256SUMS', 'uses ".."'],
    ['.', 'names a folder'],
    ['sums/', 'names a folder'],
    ['', 'a path cannot be empty'],
  ])('rejects output %j with a message', (output, message) => {
    const result = schema().safeParse({ type: 'checksum', output });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});

describe('checksumLine', () => {
  const hex = 'ab'.repeat(32);
  it.each([
    ['a plain name as it is', 'out/a.nc', `${hex}  out/a.nc\n`],
    ['a space as it is', 'with space', `${hex}  with space\n`],
    ['a backslash as \\\\', 'back\\slash', `\\${hex}  back\\\\slash\n`],
    ['a newline as \\n', 'new\nline', `\\${hex}  new\\nline\n`],
    ['a carriage return as \\r', 'cr\r', `\\${hex}  cr\\r\n`],
  ])('writes %s', (_name, name, line) => {
    expect(checksumLine(hex, name)).toBe(line);
  });
});
