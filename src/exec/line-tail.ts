const MAX_LINE = 2000;

/** Keeps the last `size` lines of a stream, each cut to a sane length. */
export class LineTail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly size: number) {}

  push(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE);
    for (const line of parts) this.keep(line);
  }

  lines(): string[] {
    return this.partial === '' ? [...this.kept] : [...this.kept, this.partial].slice(-this.size);
  }

  private keep(line: string): void {
    this.kept.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
    if (this.kept.length > this.size) this.kept.shift();
  }
}
