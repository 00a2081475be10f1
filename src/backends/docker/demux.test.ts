import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Demuxer } from './demux.js';

const STDOUT = 1;
const STDERR = 2;

/** One frame of the engine's attach stream: stream byte, three zeros, big-endian length, payload. */
function frame(stream: number, payload: string | Buffer): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A destination that records each write, in one log shared by stdout and stderr. */
function recordingOutputs() {
  const log: [name: string, text: string][] = [];
  const sink = (name: string) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        log.push([name, chunk.toString()]);
        callback();
      },
    });
  const outputs = { stdout: sink('stdout'), stderr: sink('stderr') };
  const text = (name: string) =>
    log
      .filter(([n]) => n === name)
      .map(([, t]) => t)
      .join('');
  return { outputs, log, stdout: () => text('stdout'), stderr: () => text('stderr') };
}

/** Feeds the chunks to a demuxer one write at a time, and waits until it has passed everything on. */
async function feed(outputs: { stdout: Writable; stderr: Writable }, chunks: Buffer[]) {
  await pipeline(Readable.from(chunks, { objectMode: false }), new Demuxer(outputs));
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Demuxer', () => {
  it.each([
    { stream: STDOUT, to: 'stdout', other: 'stderr' },
    { stream: STDERR, to: 'stderr', other: 'stdout' },
  ])('sends a frame for stream $stream to $to', async ({ stream, to, other }) => {
    const recorded = recordingOutputs();
    await feed(recorded.outputs, [frame(stream, 'wave height 1.2 m\n')]);
    expect(recorded.log).toEqual([[to, 'wave height 1.2 m\n']]);
    expect(recorded.log.filter(([name]) => name === other)).toEqual([]);
  });

  it('takes several frames from one chunk, in order', async () => {
    const recorded = recordingOutputs();
    const chunk = Buffer.concat([
      frame(STDOUT, 'step 1\n'),
      frame(STDERR, 'warning: CFL 0.9\n'),
      frame(STDOUT, 'step 2\n'),
      frame(STDOUT, 'done\n'),
    ]);
    await feed(recorded.outputs, [chunk]);
    expect(recorded.log).toEqual([
      ['stdout', 'step 1\n'],
      ['stderr', 'warning: CFL 0.9\n'],
      ['stdout', 'step 2\n'],
      ['stdout', 'done\n'],
    ]);
  });

  it('passes binary payloads and empty frames through unchanged', async () => {
    const bytes = Buffer.from([0, 1, 2, 8, 0, 0, 0, 1, 255, 10]);
    const taken: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        taken.push(chunk);
        callback();
      },
    });
    await feed({ stdout, stderr: recordingOutputs().outputs.stderr }, [
      Buffer.concat([frame(STDOUT, ''), frame(STDOUT, bytes)]),
    ]);
    expect(Buffer.concat(taken).equals(bytes)).toBe(true);
  });

  // Two frames, one per stream: 8 + 6 + 8 + 5 bytes, split in two at every place.
  const TWO_FRAMES = Buffer.concat([frame(STDOUT, 'hello\n'), frame(STDERR, 'oops\n')]);
  it.each(Array.from({ length: TWO_FRAMES.length - 1 }, (_, i) => i + 1))(
    'reassembles frames split after byte %i',
    async (at) => {
      const recorded = recordingOutputs();
      await feed(recorded.outputs, [TWO_FRAMES.subarray(0, at), TWO_FRAMES.subarray(at)]);
      expect(recorded.stdout()).toBe('hello\n');
      expect(recorded.stderr()).toBe('oops\n');
    },
  );

  it('reassembles frames that arrive one byte at a time', async () => {
    const recorded = recordingOutputs();
    const bytes = Buffer.concat([
      frame(STDERR, 'a'),
      frame(STDOUT, 'bc'),
      frame(STDERR, 'def'),
      frame(STDOUT, 'ghij'),
    ]);
    await feed(
      recorded.outputs,
      [...bytes].map((byte) => Buffer.from([byte])),
    );
    expect(recorded.log).toEqual([
      ['stderr', 'a'],
      ['stdout', 'bc'],
      ['stderr', 'def'],
      ['stdout', 'ghij'],
    ]);
  });

  it('reassembles a frame larger than the chunks it arrives in', async () => {
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const bytes = frame(STDOUT, payload);
    const chunks: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += 4096)
      chunks.push(bytes.subarray(start, start + 4096));
    const taken: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        taken.push(chunk);
        callback();
      },
    });
    await feed({ stdout, stderr: recordingOutputs().outputs.stderr }, chunks);
    expect(taken).toHaveLength(1);
    expect(taken[0]?.equals(payload)).toBe(true);
  });

  it('passes on the part of a stdout frame that arrived when the stream ends mid-frame', async () => {
    const recorded = recordingOutputs();
    const bytes = Buffer.concat([frame(STDOUT, 'complete\n'), frame(STDOUT, 'cut short\n')]);
    await feed(recorded.outputs, [bytes.subarray(0, bytes.length - 6)]);
    expect(recorded.stdout()).toBe('complete\ncut ');
  });

  it('passes a cut-off stderr frame on to stderr, not stdout', async () => {
    const recorded = recordingOutputs();
    const bytes = frame(STDERR, 'hello stderr');
    await feed(recorded.outputs, [bytes.subarray(0, 12)]);
    expect(recorded.stderr()).toBe('hell');
    expect(recorded.stdout()).toBe('');
  });

  it('fails when a destination fails', async () => {
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('no space left on device'));
      },
    });
    // The destination also emits the error itself; that event is for its owner to handle.
    failing.on('error', () => {});
    await expect(
      feed({ stdout: failing, stderr: recordingOutputs().outputs.stderr }, [frame(STDOUT, 'x')]),
    ).rejects.toThrow('no space left on device');
  });

  describe('backpressure', () => {
    /** A destination that takes a frame only when the test says so. */
    function heldOutput() {
      const taken: string[] = [];
      const pending: (() => void)[] = [];
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          taken.push(chunk.toString());
          pending.push(() => callback());
        },
      });
      return {
        stream,
        taken,
        async release() {
          pending.shift()?.();
          await settle();
        },
      };
    }

    it('takes the next chunk only once the destination has taken the previous frame', async () => {
      const held = heldOutput();
      const demuxer = new Demuxer({
        stdout: held.stream,
        stderr: recordingOutputs().outputs.stderr,
      });
      const accepted: string[] = [];
      for (const text of ['one', 'two', 'three'])
        demuxer.write(frame(STDOUT, text), () => accepted.push(text));
      await settle();
      expect(held.taken).toEqual(['one']);
      expect(accepted).toEqual([]);

      await held.release();
      expect(accepted).toEqual(['one']);
      expect(held.taken).toEqual(['one', 'two']);

      await held.release();
      expect(accepted).toEqual(['one', 'two']);
      expect(held.taken).toEqual(['one', 'two', 'three']);

      await held.release();
      expect(accepted).toEqual(['one', 'two', 'three']);
    });

    it('tells the writer to wait, and drains only when the destination has caught up', async () => {
      const held = heldOutput();
      const demuxer = new Demuxer({
        stdout: held.stream,
        stderr: recordingOutputs().outputs.stderr,
      });
      let drained = false;
      demuxer.on('drain', () => {
        drained = true;
      });
      // Larger than the demuxer's buffer (16 KiB on Node 20, 64 KiB from 22): the writer is told to wait at once.
      const big = 'x'.repeat(demuxer.writableHighWaterMark + 4000);
      expect(demuxer.write(frame(STDOUT, big))).toBe(false);
      await settle();
      expect(drained).toBe(false);
      await held.release();
      expect(held.taken).toEqual([big]);
      expect(drained).toBe(true);
    });

    it('holds a chunk of many frames until the destination has taken each of them', async () => {
      const held = heldOutput();
      const demuxer = new Demuxer({
        stdout: held.stream,
        stderr: recordingOutputs().outputs.stderr,
      });
      let accepted = false;
      demuxer.write(Buffer.concat(['a', 'b', 'c'].map((t) => frame(STDOUT, t))), () => {
        accepted = true;
      });
      await settle();
      expect(held.taken).toEqual(['a']);
      await held.release();
      await held.release();
      expect(held.taken).toEqual(['a', 'b', 'c']);
      expect(accepted).toBe(false);
      await held.release();
      expect(accepted).toBe(true);
    });
  });
});
