import { Writable } from 'node:stream';
import { writeChunk } from '../../exec/streams.js';

const HEADER = 8;

/**
 * Splits the engine's multiplexed attach stream (8-byte frame headers: the
 * stream, three zero bytes, the frame's length) into stdout and stderr.
 * Unlike docker-modem's demuxStream, it waits for each destination to take
 * a frame before reading the next, so a model that prints faster than the
 * logs and the terminal can take is slowed down, not buffered.
 */
export class Demuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly outputs: { stdout: Writable; stderr: Writable }) {
    super();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.drainFrames().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A stream that ends mid-frame (the container was removed while writing):
    // pass on what arrived of the frame, to the stream it was meant for.
    const target = this.pending[0] === 2 ? this.outputs.stderr : this.outputs.stdout;
    const rest = this.pending.subarray(HEADER);
    this.pending = Buffer.alloc(0);
    if (rest.length === 0) {
      callback();
      return;
    }
    writeChunk(target, rest).then(() => callback(), callback);
  }

  private async drainFrames(): Promise<void> {
    while (this.pending.length >= HEADER) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) return;
      const target = this.pending[0] === 2 ? this.outputs.stderr : this.outputs.stdout;
      const frame = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      await writeChunk(target, frame);
    }
  }
}
