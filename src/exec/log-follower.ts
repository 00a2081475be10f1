import type { FileHandle } from 'node:fs/promises';

/** How long a follower at the end of its file waits before it looks again. */
const IDLE_MS = 50;
/** How long it waits for a taker that is behind before it asks again. */
const BEHIND_MS = 20;
const CHUNK_BYTES = 1024 * 1024;
const PIECE_BYTES = 64 * 1024;

/**
 * Follows a log file that another process writes (the LogRelay's cat, not
 * modelrun) and hands each new piece to `take`, in order. It reads only while `ready()` says the taker keeps up, so a slow
 * reader of the echo makes the follower wait, never the model: the file
 * holds everything meanwhile. `finish()` reads the rest, without waiting.
 */
export class LogFollower {
  private offset = 0;
  private stopping = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly file: FileHandle,
    private readonly take: (chunk: Buffer) => void,
    private readonly ready: () => boolean = () => true,
  ) {}

  start(): void {
    this.running ??= this.follow();
  }

  /** Hands over what is left up to the file's end, then stops. Safe to call again. */
  async finish(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.start();
    await this.running;
  }

  private async follow(): Promise<void> {
    for (;;) {
      if (!this.stopping && !this.ready()) {
        await this.pause(BEHIND_MS);
        continue;
      }
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      // A read that fails (the disk is gone) ends the view, not the run: the log is the record.
      const read = await this.file.read(buffer, 0, CHUNK_BYTES, this.offset).catch(() => undefined);
      if (read === undefined) return;
      if (read.bytesRead > 0) {
        this.offset += read.bytesRead;
        // A small read is copied out, so that what waits for the taker holds no whole chunk.
        const got =
          read.bytesRead < CHUNK_BYTES / 4
            ? Buffer.from(buffer.subarray(0, read.bytesRead))
            : buffer.subarray(0, read.bytesRead);
        // Handed on in pieces the size of a pipe's: a reader that stalls inside
        // one is then told within a piece how much it was not shown.
        for (let at = 0; at < got.length; at += PIECE_BYTES)
          this.take(got.subarray(at, at + PIECE_BYTES));
        continue;
      }
      if (this.stopping) return;
      await this.pause(IDLE_MS);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
