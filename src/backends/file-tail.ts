import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { writeChunk } from '../run/streams.js';

/**
 * Follows a file another process writes (a Slurm job's output file, maybe
 * on a shared filesystem) and passes each new piece to `into`. Reads at
 * most a chunk at a time, waiting for `into` to take it, so a job that
 * writes gigabytes does not make modelrun hold them.
 */
export class FileTail {
  private offset = 0;

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
      // Shorter than what was read: the file began again (Slurm truncates a
      // requeued job's output), and what is in it now is all new.
      if ((await handle.stat()).size < this.offset) this.offset = 0;
      let total = 0;
      for (;;) {
        const buffer = Buffer.alloc(this.chunkSize);
        const { bytesRead } = await handle.read(buffer, 0, this.chunkSize, this.offset);
        if (bytesRead === 0) return total;
        this.offset += bytesRead;
        total += bytesRead;
        await writeChunk(this.into, buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  }
}
