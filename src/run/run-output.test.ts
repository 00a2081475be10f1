import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { runProcess } from '../backends/process-runner.js';
import { createRunOutput } from './run-output.js';
import { writeChunk } from './streams.js';

let tree: Tree;
afterEach(() => tree?.remove());

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

  it('fails the output, without crashing, when the log cannot be written (a full disk)', async () => {
    tree = makeTree({ 'logs/': '' });
    symlinkSync('/dev/full', tree.path('logs', 'stdout.log'));
    const handle = await createRunOutput({ logDir: tree.path('logs') });
    // The write fails long before the model ends: the failure must wait for
    // the exit without counting as an unhandled rejection meanwhile.
    const outcome = await runProcess(
      {
        file: '/bin/sh',
        args: ['-c', 'seq 1 1000; sleep 0.5'],
        cwd: tree.root,
        env: { PATH: process.env.PATH ?? '' },
      },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    await handle.close();
    expect(outcome.exitCode).toBe(0);
    expect(outcome.outputError).toMatch(/ENOSPC/);
  });

  it('fails a direct write, without crashing, when the log cannot be written', async () => {
    // Container and job output is written chunk by chunk, with no pipeline to hear the stream's error.
    tree = makeTree({ 'logs/': '' });
    symlinkSync('/dev/full', tree.path('logs', 'stderr.log'));
    const handle = await createRunOutput({ logDir: tree.path('logs') });
    await expect(writeChunk(handle.output.stderr, 'step 1\n')).rejects.toThrow(/ENOSPC/);
    await expect(writeChunk(handle.output.stderr, 'step 2\n')).rejects.toThrow();
    await writeChunk(handle.output.stdout, 'still kept\n');
    await handle.close();
    expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toBe('still kept\n');
  });

  it('prefixes echoed lines by stream once the model writes to both, and never the logs', async () => {
    tree = makeTree();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          into.push(chunk);
          callback();
        },
      });
    const handle = await createRunOutput({
      logDir: tree.path('logs'),
      echo: { stdout: sink(out), stderr: sink(err) },
    });
    await runProcess(
      {
        file: '/bin/sh',
        args: ['-c', 'echo a; sleep 0.1; echo b >&2; sleep 0.1; echo c'],
        cwd: tree.root,
        env: {},
      },
      handle.output,
      { signal: new AbortController().signal, graceMs: 1000 },
    );
    await handle.close();
    expect(Buffer.concat(out).toString()).toBe('a\nout| c\n');
    expect(Buffer.concat(err).toString()).toBe('err| b\n');
    expect(readFileSync(tree.path('logs', 'stdout.log'), 'utf8')).toBe('a\nc\n');
    expect(handle.stderrTail()).toEqual(['b']);
  });
});
