import { StringDecoder } from 'node:string_decoder';

type StreamName = 'stdout' | 'stderr';

/**
 * Marks which stream each echoed line came from, once the model has written
 * to both: a model that only prints to stdout is echoed as it is. Used only
 * when both streams share one terminal (see same-terminal.ts). Chunks pass
 * straight through; only line starts get a prefix, so nothing is buffered.
 */
export class StreamPrefixer {
  private readonly seen = new Set<StreamName>();
  private readonly atLineStart: Record<StreamName, boolean> = { stdout: true, stderr: true };
  // A chunk may end inside a multi-byte character; the decoders carry it over.
  private readonly decoders = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };

  constructor(
    private readonly prefix: (name: StreamName) => string = (name) =>
      `${name === 'stdout' ? 'out' : 'err'}| `,
  ) {}

  apply(name: StreamName, chunk: Buffer): Buffer | string {
    this.seen.add(name);
    if (this.seen.size < 2) {
      this.atLineStart[name] = chunk.at(-1) === 0x0a;
      return chunk;
    }
    const text = this.decoders[name].write(chunk);
    const prefix = this.prefix(name);
    let out = this.atLineStart[name] ? prefix : '';
    // Prefix every line start inside the chunk, but not a start after its final newline.
    out += text.replace(/\n(?=.)/gs, `\n${prefix}`);
    this.atLineStart[name] = text.endsWith('\n');
    return out;
  }
}
