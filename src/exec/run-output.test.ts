import { execFileSync } from 'node:child_process';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mountTmpfs, tmpfsUnavailable, unmount } from '../../test/helpers/mount.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { ExecFailure } from './exec-failure.js';
import { runProcess } from './process-runner.js';
import { createRunOutput, type RunOutput } from './run-output.js';
import { writeChunk } from './streams.js';

let tree: Tree;
let mounted: string | undefined;
afterEach(() => {
  if (mounted !== undefined) unmount(mounted);
  mounted = undefined;
  tree?.remove();
});

/** A logs folder on a tmpfs of `size`; by default one page, which the first page written fills. */
function fullLogs(size = '4k'): string {
  tree = makeTree();
  const logs = tree.path('logs');
  const problem = mountTmpfs(logs, `size=${size}`);
  if (problem !== undefined) throw new Error(problem);
  mounted = logs;
  return logs;
}

/** A model that writes a line to stdout, then one to stderr, then one more to stdout. */
async function writeOutThenErrThenOut(output: RunOutput): Promise<void> {
  await runProcess(
    {
      file: '/bin/sh',
      args: ['-c', 'echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c'],
      cwd: tree.root,
      env: {},
    },
    output,
    { signal: new AbortController().signal, graceMs: 1000 },
  );
}

/** A terminal that takes a while over every write, like a slow ssh session. */
function slowTerminal(received: Buffer[]): Writable {
  return new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      setTimeout(callback, 1);
    },
  });
}

describe('run output', () => {
  it('keeps every byte in the logs and the echo, even when the terminal is slower than the model', async () => {
    tree = makeTree();
    const expected = execFileSync('seq', ['1', '100000']);
    const echoed: Buffer[] = [];
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: slowTerminal(echoed), stderr: slowTerminal([]) },
    });
    const outcome = await runProcess(
      { file: 'seq', args: ['1', '100000'], cwd: tree.root, env: { PATH: process.env.PATH ?? '' } },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    await handle.close();
    expect(outcome).toEqual({ exitCode: 0, signal: null });
    expect(readFileSync(tree.path('logs', 'stdout.log')).equals(expected)).toBe(true);
    expect(Buffer.concat(echoed).equals(expected)).toBe(true);
  });

  it.skipIf(tmpfsUnavailable()).each([
    ['the model writes the logs itself', () => ({})],
    [
      'modelrun copies the output into them (both streams echoed to one reader)',
      () => {
        const shared = new PassThrough().resume();
        return { echo: { stdout: shared, stderr: shared } };
      },
    ],
  ])(
    'fails the output, without crashing, when the log cannot be written (a full disk): %s',
    async (_name, options) => {
      const handle = await createRunOutput({ logDir: fullLogs(), ...options() });
      // The write fails long before the model ends: the failure must wait for
      // the exit without counting as an unhandled rejection meanwhile.
      const outcome = await runProcess(
        {
          file: '/bin/sh',
          args: ['-c', 'seq 1 100000; sleep 0.5'],
          cwd: tree.root,
          env: { PATH: process.env.PATH ?? '' },
        },
        handle.output,
        { signal: new AbortController().signal, graceMs: 1000 },
      );
      await handle.close();
      expect(outcome.exitCode).toBe(0);
      expect(outcome.outputError).toMatch(/ENOSPC/);
    },
  );

  it.skipIf(tmpfsUnavailable())(
    'fails a direct write, without crashing, when the log cannot be written',
    async () => {
      // Container and job output is written chunk by chunk, with no pipeline to hear the stream's error.
      const logs = fullLogs();
      const handle = await createRunOutput({ logDir: logs });
      // stdout.log takes the one page there is; stderr.log then finds the disk full.
      await writeChunk(handle.output.stdout, 'still kept\n');
      await expect(writeChunk(handle.output.stderr, 'step 1\n')).rejects.toThrow(/ENOSPC/);
      await expect(writeChunk(handle.output.stderr, 'step 2\n')).rejects.toThrow();
      await handle.close();
      expect(readFileSync(join(logs, 'stdout.log'), 'utf8')).toBe('still kept\n');
    },
  );

  it.each([
    [
      'a logs symlink',
      (t: Tree) => symlinkSync(t.path('victim'), t.path('logs')),
      /logs is a symlink/,
    ],
    [
      'a stdout.log symlink',
      (t: Tree) => symlinkSync(t.path('victim', 'data.txt'), t.path('logs', 'stdout.log')),
      /stdout.log is a symlink/,
    ],
    [
      'a stderr.log hard link',
      (t: Tree) => linkSync(t.path('victim', 'data.txt'), t.path('logs', 'stderr.log')),
      /stderr.log is a hard link/,
    ],
    [
      'a stdout.log FIFO',
      (t: Tree) => execFileSync('mkfifo', [t.path('logs', 'stdout.log')]),
      /stdout.log is a FIFO/,
    ],
    ['a logs file', (t: Tree) => writeFileSync(t.path('logs'), 'x'), /logs is not a folder/],
  ])('refuses %s as a run failure, writing nothing through it', async (name, plant, message) => {
    tree = makeTree({ 'victim/data.txt': 'precious\n' });
    // The plants inside the logs folder need the folder.
    if (!name.startsWith('a logs ')) mkdirSync(tree.path('logs'));
    plant(tree);
    const error = await createRunOutput({ logDir: tree.path('logs') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecFailure);
    expect((error as Error).message).toMatch(message);
    expect(readFileSync(tree.path('victim', 'data.txt'), 'utf8')).toBe('precious\n');
  });

  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        into.push(chunk);
        callback();
      },
    });

  it('echoes each stream byte for byte when they do not share a terminal (files, pipes)', async () => {
    tree = makeTree();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const handle = await createRunOutput({ echo: { stdout: sink(out), stderr: sink(err) } });
    await writeOutThenErrThenOut(handle.output);
    await handle.close();
    expect(Buffer.concat(out).toString()).toBe('a\nc\n');
    expect(Buffer.concat(err).toString()).toBe('b\n');
  });

  it('prefixes echoed lines by stream on a shared terminal once the model writes to both, and never the logs', async () => {
    tree = makeTree();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: sink(out), stderr: sink(err), label: true },
    });
    await writeOutThenErrThenOut(handle.output);
    await handle.close();
    expect(Buffer.concat(out).toString()).toBe('a\nout| c\n');
    expect(Buffer.concat(err).toString()).toBe('err| b\n');
    expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toBe('a\nc\n');
    expect(handle.stderrTail()).toEqual(['b']);
  });

  /** A reader that never reads: `| less` left on its first page, or `| sleep`. */
  const neverRead = () =>
    new Writable({
      highWaterMark: 1024,
      write() {
        // Never calls back: the reader takes nothing.
      },
    });

  /** `seq 1 n` as the model, with the run's output and an abort signal. */
  function seqModel(output: RunOutput, n: number, signal = new AbortController().signal) {
    return runProcess(
      {
        file: '/bin/sh',
        args: ['-c', `seq 1 ${n}; sleep 30`],
        cwd: tree.root,
        env: { PATH: process.env.PATH ?? '' },
      },
      output,
      { signal, graceMs: 1000 },
    );
  }

  it('keeps the logs complete and lets the run end when the echo is never read', async () => {
    tree = makeTree();
    const expected = execFileSync('seq', ['1', '100000']);
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: neverRead(), stderr: neverRead() },
      echoLimitBytes: 64 * 1024,
    });
    const stop = new AbortController();
    const ran = seqModel(handle.output, 100000, stop.signal);
    // The whole output reaches the log while nobody reads the echo.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const kept = readFileSync(tree.path('logs', 'stdout.log'));
      if (kept.length >= expected.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = Date.now();
    stop.abort();
    const outcome = await ran;
    await handle.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome.signal).toBe('SIGTERM');
    expect(readFileSync(tree.path('logs', 'stdout.log')).equals(expected)).toBe(true);
  });

  it('hands a reader that reads only after the run the first part, then a notice of what it skipped', async () => {
    tree = makeTree();
    const expected = execFileSync('seq', ['1', '100000']);
    const out = new PassThrough();
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: out, stderr: neverRead() },
      echoLimitBytes: 64 * 1024,
    });
    const outcome = await runProcess(
      { file: 'seq', args: ['1', '100000'], cwd: tree.root, env: { PATH: process.env.PATH ?? '' } },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    await handle.close();
    expect(outcome.exitCode).toBe(0);
    expect(readFileSync(tree.path('logs', 'stdout.log')).equals(expected)).toBe(true);
    out.end();
    const echoed = Buffer.concat(await out.toArray()).toString();
    const notice =
      /\n\[modelrun: (\d+) bytes of the model's stdout skipped here: the reader fell behind; all of it is in (.*)\]\n$/.exec(
        echoed,
      );
    expect(notice?.[2]).toBe(tree.path('logs', 'stdout.log'));
    const shown = echoed.slice(0, notice?.index);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThanOrEqual(64 * 1024 + 65536);
    expect(expected.toString().startsWith(shown)).toBe(true);
    expect(Number(notice?.[1])).toBe(expected.length - shown.length);
  });

  // The notice at the end of a stalled reader's stream may never be read (`| less` left on its first page).
  it('says on the other stream what a reader it gave up on was not shown, and where all of it is', async () => {
    tree = makeTree();
    const expected = execFileSync('seq', ['1', '100000']);
    const out = new PassThrough();
    const err = new PassThrough();
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: out, stderr: err },
      echoLimitBytes: 64 * 1024,
    });
    await runProcess(
      { file: 'seq', args: ['1', '100000'], cwd: tree.root, env: { PATH: process.env.PATH ?? '' } },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    const closing = handle.close();
    err.resume();
    const said: Buffer[] = [];
    err.on('data', (chunk: Buffer) => said.push(chunk));
    await closing;
    out.end();
    const shown =
      Buffer.concat(await out.toArray())
        .toString()
        .split('\n[modelrun:')[0] ?? '';
    const line =
      /^modelrun: stdout's reader fell behind; (\d+) bytes not shown; all of it is in (.*)\n$/.exec(
        Buffer.concat(said).toString(),
      );
    expect(line?.[2]).toBe(tree.path('logs', 'stdout.log'));
    // What the stream still held when the echo gave up counts as not shown: at exit, the CLI's is lost.
    expect(Number(line?.[1])).toBeGreaterThanOrEqual(expected.length - shown.length);
    expect(Number(line?.[1])).toBeLessThanOrEqual(expected.length);
  });

  it('hands that line to onGaveUp when given, and to no stream', async () => {
    tree = makeTree();
    const err = new PassThrough();
    const notices: string[] = [];
    const handle = await createRunOutput({
      echo: { stdout: new PassThrough(), stderr: err, onGaveUp: (n) => notices.push(n) },
      echoLimitBytes: 64 * 1024,
    });
    await runProcess(
      { file: 'seq', args: ['1', '100000'], cwd: tree.root, env: { PATH: process.env.PATH ?? '' } },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    err.resume();
    await handle.close();
    expect(notices).toEqual([
      expect.stringMatching(
        /^modelrun: stdout's reader fell behind; \d+ bytes not shown; it was not kept \(capture_output is false\)$/,
      ),
    ]);
    expect(err.read()).toBeNull();
  });

  describe('output copied into the log files past modelrun', () => {
    const fds: number[] = [];
    afterEach(() => {
      for (const fd of fds.splice(0)) closeSync(fd);
    });
    /** A stream that swallows what it is given, on an open file descriptor like process.stdout's. */
    const onFd = (path: string) => {
      const fd = openSync(path, 'w');
      fds.push(fd);
      return Object.assign(new PassThrough().resume(), { fd });
    };
    const tty = () => Object.assign(new PassThrough().resume(), { isTTY: true });

    it.each([
      ['no echo', () => ({}), true],
      [
        'an echo to two readers (files, pipes)',
        () => ({ echo: { stdout: new PassThrough(), stderr: new PassThrough() } }),
        true,
      ],
      [
        'an echo to /dev/null, twice',
        () => ({ echo: { stdout: onFd('/dev/null'), stderr: onFd('/dev/null') } }),
        true,
      ],
      [
        'both streams echoed to one reader (`2>&1`)',
        () => {
          const one = new PassThrough();
          return { echo: { stdout: one, stderr: one } };
        },
        false,
      ],
      [
        'both streams echoed to one file, by two descriptors',
        () => ({
          echo: { stdout: onFd(tree.path('all.log')), stderr: onFd(tree.path('all.log')) },
        }),
        false,
      ],
      [
        'an echo to a terminal',
        () => ({ echo: { stdout: tty(), stderr: new PassThrough() } }),
        false,
      ],
      [
        'labelled lines',
        () => ({ echo: { stdout: new PassThrough(), stderr: new PassThrough(), label: true } }),
        false,
      ],
    ])('is offered with %s: %s', async (_name, options, offered) => {
      tree = makeTree();
      const handle = await createRunOutput({ logDir: tree.path('logs'), ...options() });
      expect(handle.output.direct !== undefined).toBe(offered);
      await handle.close();
    });

    it('is not offered when the output is not kept', async () => {
      tree = makeTree();
      const handle = await createRunOutput({
        echo: { stdout: new PassThrough(), stderr: new PassThrough() },
      });
      expect(handle.output.direct).toBeUndefined();
      await handle.close();
    });

    it("passes no byte through modelrun's streams, and the echo and the stderr tail still see every byte of each stream, in order", async () => {
      tree = makeTree();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const handle = await createRunOutput({
        logDir: tree.path('logs'),
        echo: { stdout: sink(out), stderr: slowTerminal(err) },
      });
      const through: string[] = [];
      const write = handle.output.stdout.write.bind(handle.output.stdout);
      handle.output.stdout.write = ((...args: Parameters<typeof write>) => {
        through.push('stdout');
        return write(...args);
      }) as typeof write;
      const outcome = await runProcess(
        {
          file: '/bin/sh',
          args: ['-c', 'seq 1 50000; seq 1 3000 >&2; echo last >&2'],
          cwd: tree.root,
          env: { PATH: process.env.PATH ?? '' },
        },
        handle.output,
        { signal: new AbortController().signal, graceMs: 1000 },
      );
      await handle.close();
      expect(outcome).toEqual({ exitCode: 0, signal: null });
      expect(through).toEqual([]);
      const seq = (n: number) => execFileSync('seq', ['1', String(n)]).toString();
      expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toBe(seq(50000));
      expect(Buffer.concat(out).toString()).toBe(seq(50000));
      expect(Buffer.concat(err).toString()).toBe(`${seq(3000)}last\n`);
      expect(handle.stderrTail().slice(-2)).toEqual(['3000', 'last']);
    });

    it('shows what the model writes while it runs, not only at its end', async () => {
      tree = makeTree();
      const out = new PassThrough();
      const handle = await createRunOutput({
        logDir: tree.path('logs'),
        echo: { stdout: out, stderr: new PassThrough() },
      });
      const firstLine = new Promise<string>((resolve) =>
        out.once('data', (chunk: Buffer) => resolve(chunk.toString())),
      );
      const stop = new AbortController();
      const ran = runProcess(
        { file: '/bin/sh', args: ['-c', 'echo started; sleep 30'], cwd: tree.root, env: {} },
        handle.output,
        { signal: stop.signal, graceMs: 1000 },
      );
      expect(await firstLine).toBe('started\n');
      stop.abort();
      expect((await ran).signal).toBe('SIGTERM');
      await handle.close();
    });

    /** A model's shell commands, run with the output copied into logs on a tmpfs of `size`. */
    async function onSmallDisk(size: string, script: string) {
      const logs = fullLogs(size);
      const handle = await createRunOutput({ logDir: logs });
      expect(handle.output.direct).toBeDefined();
      const outcome = await runProcess(
        { file: '/bin/sh', args: ['-c', script], cwd: logs, env: { PATH: process.env.PATH ?? '' } },
        handle.output,
        { signal: new AbortController().signal, graceMs: 1000 },
      );
      await handle.close();
      return { outcome, log: (name: string) => readFileSync(join(logs, name), 'utf8') };
    }

    it.skipIf(tmpfsUnavailable())(
      'fails the output when a write did not fit, even if the disk has room again by the end',
      async () => {
        // The copy gives up on its first failed write, so the model's writes end in EPIPE
        // once the copy has tried: only then does the model free the disk again.
        const { outcome } = await onSmallDisk(
          '64k',
          'head -c 200000 /dev/zero > fill.bin 2>/dev/null; while (echo lost >&2); do sleep 0.02; done; rm fill.bin',
        );
        expect(outcome.exitCode).toBe(0);
        expect(outcome.outputError).toMatch(/ENOSPC/);
      },
    );

    it.skipIf(tmpfsUnavailable())(
      'does not fail the output of a model whose own files filled the disk after its logs were written',
      async () => {
        const { outcome, log } = await onSmallDisk(
          '64k',
          // The logs are copied a moment later: the model fills the disk only once both are in.
          'echo kept; echo kept too >&2; until [ "$(cat stdout.log)" = kept ] && [ "$(cat stderr.log)" = "kept too" ]; do sleep 0.02; done; head -c 200000 /dev/zero > fill.bin 2>/dev/null; true',
        );
        expect(outcome).toEqual({ exitCode: 0, signal: null });
        expect(log('stdout.log')).toBe('kept\n');
        expect(log('stderr.log')).toBe('kept too\n');
      },
    );

    it('keeps every line of a model that reopens its output through /dev/stderr and /dev/stdout', async () => {
      tree = makeTree();
      const handle = await createRunOutput({ logDir: tree.path('logs') });
      expect(handle.output.direct).toBeDefined();
      // Were the logs its own stdout and stderr, `>` would truncate stderr.log and `1<>` write over stdout.log.
      await runProcess(
        {
          file: '/bin/sh',
          args: [
            '-c',
            'echo one >&2; echo two >&2; echo three > /dev/stderr; echo four >&2; echo out; echo over 1<> /dev/stdout; echo out2',
          ],
          cwd: tree.root,
          env: { PATH: process.env.PATH ?? '' },
        },
        handle.output,
        { signal: new AbortController().signal, graceMs: 1000 },
      );
      await handle.close();
      const stderr = readFileSync(tree.path('logs', 'stderr.log'), 'utf8');
      expect(stderr).not.toContain('\0');
      const kept = stderr.split('\n').filter((line) => ['one', 'two', 'four'].includes(line));
      expect(kept).toEqual(['one', 'two', 'four']);
      expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toMatch(
        /^out\n(over\n)?out2\n$/,
      );
    });

    it("copies with the system's cat even when modelrun's own PATH has none", async () => {
      tree = makeTree();
      const handle = await createRunOutput({ logDir: tree.path('logs') });
      const path = process.env.PATH;
      process.env.PATH = tree.path('nothing-here');
      try {
        const outcome = await runProcess(
          { file: '/bin/sh', args: ['-c', 'echo kept'], cwd: tree.root, env: {} },
          handle.output,
          { signal: new AbortController().signal, graceMs: 1000 },
        );
        expect(outcome).toEqual({ exitCode: 0, signal: null });
      } finally {
        process.env.PATH = path;
      }
      await handle.close();
      expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toBe('kept\n');
    });
  });
});
