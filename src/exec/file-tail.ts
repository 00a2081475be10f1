import { type FileHandle, open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { writeChunk } from './streams.js';

/**
 * Follows a file another process writes (a Slurm job's output file, maybe
 * on a shared filesystem) and passes each new piece to `into`. Reads at
 * most a chunk at a time, waiting for `into` to take it, so a job that
 * writes gigabytes does not make modelrun hold them.
 */
export class FileTail {
  private offset = 0;
  /** The file's first bytes as read, to tell when it began again. */
  private head = Buffer.alloc(0);

  /** `path` names the file, once it can (a Slurm job's node may be unknown at first); until then there is nothing to read. */
  constructor(
    private readonly path: () => string | undefined,
    private readonly into: Writable,
    private readonly chunkSize = 1024 * 1024,
  ) {}

  /** Reads what was added since the last call; returns how many bytes. A missing file is empty. */
  async poll(): Promise<number> {
    const path = this.path();
    if (path === undefined) return 0;
    const handle = await open(path, 'r').catch(() => undefined);
    if (handle === undefined) return 0;
    try {
      // The file began again (Slurm truncates a requeued job's output): it is
      // shorter than what was read, or starts otherwise. What it holds is new.
      if (await this.beganAgain(handle)) {
        this.offset = 0;
        this.head = Buffer.alloc(0);
      }
      let total = 0;
      for (;;) {
        const buffer = Buffer.alloc(this.chunkSize);
        const { bytesRead } = await handle.read(buffer, 0, this.chunkSize, this.offset);
        if (bytesRead === 0) return total;
        if (this.head.length < HEAD_BYTES)
          this.head = Buffer.concat([this.head, buffer.subarray(0, bytesRead)]).subarray(
            0,
            HEAD_BYTES,
          );
        this.offset += bytesRead;
        total += bytesRead;
        await writeChunk(this.into, buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }

  private async beganAgain(handle: FileHandle): Promise<boolean> {
    if ((await handle.stat()).size < this.offset) return true;
    if (this.head.length === 0) return false;
    const now = Buffer.alloc(this.head.length);
    const { bytesRead } = await handle.read(now, 0, now.length, 0);
    return !now.subarray(0, bytesRead).equals(this.head);
  }
}

/**
 * How much of the file's start is kept to tell a new file from the old one.
 * A requeued job whose output starts with the very same bytes, and outgrows
 * what was read before the next look, is taken for the old file.
 */
const HEAD_BYTES = 256;
