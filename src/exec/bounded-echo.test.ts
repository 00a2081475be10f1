import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BoundedEcho } from './bounded-echo.js';

/** A reader that takes its writes only when the test says so. */
function heldReader() {
  const taken: string[] = [];
  const held: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      taken.push(chunk.toString());
      held.push(callback);
    },
  });
  const release = async () => {
    while (held.length > 0) {
      held.shift()?.();
      // The stream hands over its next buffered write on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { stream, taken, release };
}

describe('the bounded echo', () => {
  it('skips output once the reader is a limit behind, and marks the gap once it catches up', async () => {
    const reader = heldReader();
    const echo = new BoundedEcho(reader.stream, {
      name: 'stdout',
      logFile: '/run/logs/stdout.log',
      limitBytes: 10,
    });
    echo.write('aaaa\n');
    echo.write('bbbb\n');
    echo.write('cccc\n');
    echo.write('dddd\n');
    await reader.release();
    echo.write('eeee\n');
    await reader.release();
    expect(reader.taken.join('')).toBe(
      "aaaa\nbbbb\n\n[modelrun: 10 bytes of the model's stdout skipped here: the reader fell behind; all of it is in /run/logs/stdout.log]\neeee\n",
    );
  });

  it('stops waiting for a reader that takes nothing, leaving the notice after what it holds', async () => {
    const reader = heldReader();
    const echo = new BoundedEcho(reader.stream, {
      name: 'stderr',
      logFile: undefined,
      limitBytes: 4,
    });
    echo.write('one\n');
    echo.write('two\n');
    const started = Date.now();
    await echo.settle(200, 5000);
    expect(Date.now() - started).toBeLessThan(1000);
    await reader.release();
    expect(reader.taken.join('')).toBe(
      "one\n\n[modelrun: 4 bytes of the model's stderr skipped here: the reader fell behind; it was not kept (capture_output is false)]\n",
    );
  });

  it('writes nothing to a reader that has ended', () => {
    const reader = heldReader();
    reader.stream.end();
    const echo = new BoundedEcho(reader.stream, { name: 'stdout', logFile: undefined });
    // Writing after the end would raise an 'error' that nobody hears.
    echo.write('late\n');
    expect(reader.taken).toEqual([]);
  });
});
