import { describe, expect, it } from 'vitest';
import { LineTail } from './line-tail.js';

/** The tail as it was first written: every chunk split into lines as it comes. */
class EagerTail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly size: number) {}

  push(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = (parts.pop() ?? '').slice(-2000);
    for (const line of parts) {
      this.kept.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (this.kept.length > this.size) this.kept.shift();
    }
  }

  lines(): string[] {
    return this.partial === '' ? [...this.kept] : [...this.kept, this.partial].slice(-this.size);
  }
}

/** A small deterministic random source, so that a failure can be replayed. */
function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % below;
  };
}

/** Output of many kinds: short lines, long lines, lines with no end, multi-byte characters. */
function output(pick: (below: number) => number): Buffer {
  const pieces: string[] = [];
  for (let i = 0; i < 150; i++) {
    const kind = pick(6);
    if (kind === 0) pieces.push(`step ${i} ok\n`);
    else if (kind === 1) pieces.push(`${'x'.repeat(pick(5000))}\n`);
    else if (kind === 2) pieces.push('é€😀'.repeat(pick(300)));
    else if (kind === 3) pieces.push('\n\n');
    else if (kind === 4) pieces.push('y'.repeat(pick(70_000)));
    else pieces.push(`warning: ${i}\n`);
  }
  return Buffer.from(pieces.join(''));
}

describe('the tail of a stream', () => {
  it.each([
    [1, 20],
    [2, 5],
    [3, 0],
    [4, 1],
    [5, 20],
    [6, 3],
  ])('keeps the lines splitting every chunk would keep (seed %i, %i lines)', (seed, size) => {
    const pick = random(seed);
    const bytes = output(pick);
    const lazy = new LineTail(size);
    const eager = new EagerTail(size);
    const asked: [string[], string[]][] = [];
    for (let at = 0; at < bytes.length; ) {
      // Chunks of any size, cut anywhere, even inside a character, or just
      // after a newline, where no line is left unfinished; some as strings.
      const newline = bytes.indexOf(0x0a, at + pick(1000));
      const end =
        pick(3) === 0 && newline !== -1
          ? newline + 1
          : Math.min(bytes.length, at + 1 + pick(pick(2) === 0 ? 100 : 200_000));
      const chunk = pick(8) === 0 ? bytes.subarray(at, end).toString() : bytes.subarray(at, end);
      lazy.push(chunk);
      eager.push(chunk);
      at = end;
      if (pick(20) === 0) asked.push([lazy.lines(), eager.lines()]);
    }
    asked.push([lazy.lines(), eager.lines()]);
    lazy.push('\n');
    eager.push('\n');
    asked.push([lazy.lines(), eager.lines()]);
    for (const [got, want] of asked) expect(got).toEqual(want);
  });

  it('holds only a bounded queue of a stream without newlines', () => {
    const tail = new LineTail(20);
    const chunk = Buffer.alloc(64 * 1024, 'z');
    for (let i = 0; i < 200; i++) tail.push(chunk);
    const queue = (tail as unknown as { queue: Buffer[] }).queue;
    expect(queue.reduce((sum, c) => sum + c.length, 0)).toBeLessThanOrEqual(128 * 1024);
    expect(tail.lines()).toEqual(['z'.repeat(2000)]);
  });
});
