const MAX_LINE = 2000;

/** Bytes queued before the tail looks for where its last lines begin. */
const QUEUE_BYTES = 64 * 1024;

type Chunk = Buffer | string;

/**
 * Keeps the last `size` lines of a stream, each cut to a sane length.
 * Chunks are queued as they come, not split: once the queue grows, all
 * before the newline that begins the last `size` lines is dropped, as
 * nothing there can show any more; lines are split only when asked for.
 * So a model that writes gigabytes to stderr costs a search for a few
 * newlines now and then, not work on every line. The lines are those that
 * splitting every chunk as it came would keep: each chunk is split on its
 * own, as before, and a newline byte never sits inside a UTF-8 character,
 * so the bytes after one decode alike however the chunk is cut there.
 */
export class LineTail {
  private readonly kept: string[] = [];
  private partial = '';
  private queue: Chunk[] = [];
  private queued = 0;

  constructor(private readonly size: number) {}

  push(chunk: Chunk): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued > QUEUE_BYTES) this.trim();
  }

  lines(): string[] {
    this.split(this.queue.length);
    return this.partial === '' ? [...this.kept] : [...this.kept, this.partial].slice(-this.size);
  }

  private trim(): void {
    const start = this.lastLinesStart();
    if (start !== undefined) {
      const [index, offset] = start;
      const first = this.queue[index] as Chunk;
      this.queue = [first.slice(offset), ...this.queue.slice(index + 1)];
      this.queued = this.queue.reduce((sum, chunk) => sum + chunk.length, 0);
      // The lines before are all pushed out by those that follow.
      this.kept.length = 0;
      this.partial = '';
    }
    // Few but long lines: split the oldest chunks now, which keeps at most
    // MAX_LINE of an unfinished line, rather than queue a line without end.
    while (this.queued > QUEUE_BYTES && this.queue.length > 1) this.split(1);
  }

  /**
   * Where the last `size` complete lines begin: just after the newline
   * before them, as [chunk index, offset]; undefined when the queue does
   * not hold that many.
   */
  private lastLinesStart(): [number, number] | undefined {
    let wanted = this.size + 1;
    for (let index = this.queue.length - 1; index >= 0; index--) {
      const chunk = this.queue[index] as Chunk;
      let at = chunk.length;
      while (at > 0) {
        at =
          typeof chunk === 'string'
            ? chunk.lastIndexOf('\n', at - 1)
            : chunk.lastIndexOf(0x0a, at - 1);
        if (at === -1) break;
        wanted -= 1;
        if (wanted === 0) return [index, at + 1];
      }
    }
    return undefined;
  }

  /** Splits the oldest `count` queued chunks into lines, one chunk at a time. */
  private split(count: number): void {
    for (const chunk of this.queue.splice(0, count)) {
      this.queued -= chunk.length;
      const parts = (this.partial + chunk.toString()).split('\n');
      this.partial = (parts.pop() ?? '').slice(-MAX_LINE);
      for (const line of parts) this.keep(line);
    }
  }

  private keep(line: string): void {
    this.kept.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
    if (this.kept.length > this.size) this.kept.shift();
  }
}
