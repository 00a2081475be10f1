import { untilTaken } from './streams.js';
import { escapeDeceptive } from './visible-name.js';

/** How much echo may wait for a slow reader, per stream, before the echo skips output. */
export const ECHO_LIMIT_BYTES = 4 * 1024 * 1024;

/** What a reader the echo gave up on was not shown, and the line that says so. */
export interface EchoGaveUp {
  bytes: number;
  notice: string;
}

export interface BoundedEchoOptions {
  /** Bytes the reader may fall behind before output is skipped. Default: ECHO_LIMIT_BYTES. */
  limitBytes?: number;
  /** The stream's name and where all of it is kept, for the notice that marks a gap. */
  name: 'stdout' | 'stderr';
  logFile: string | undefined;
}

/**
 * The live copy of one output stream to a reader that may be slow or may
 * never read (`| less` left on its first page, a library caller's
 * PassThrough read only after the run). The model and its log files never
 * wait for it: up to `limitBytes` queue for the reader, and past that the
 * echo skips output until the reader has taken half of it, then marks the
 * gap with one notice line. A plain pipe would pause the model instead; a
 * run is hours of a shared cluster's time, and with Slurm there is no model
 * process here to pause, so the logs are the record and the echo a view.
 */
export class BoundedEcho {
  private readonly limit: number;
  /** Bytes handed to the reader whose write has not completed. */
  private pending = 0;
  /** Bytes skipped since the echo last kept up; 0 when it keeps up. */
  private skipped = 0;
  /** The model's bytes the reader never got: all skipped, and those queued when the echo gave up. */
  private skippedInAll = 0;
  /** The model's bytes (not notices) among `pending`. */
  private pendingModel = 0;
  private gone = false;

  constructor(
    private readonly target: NodeJS.WritableStream,
    private readonly options: BoundedEchoOptions,
  ) {
    this.limit = options.limitBytes ?? ECHO_LIMIT_BYTES;
  }

  write(chunk: Buffer | string): void {
    if (this.closed()) return;
    const size = Buffer.byteLength(chunk);
    const behind =
      this.skipped > 0 ? this.pending > this.limit / 2 : this.pending + size > this.limit;
    // A single chunk larger than the limit still goes to a reader that has taken everything.
    if (behind && this.pending > 0) {
      this.skipped += size;
      this.skippedInAll += size;
      return;
    }
    this.markGap();
    this.send(chunk, size, true);
  }

  /** Whether the reader has taken all but half the limit: more can come without a gap. */
  keepsUp(): boolean {
    return this.gone || this.pending < this.limit / 2;
  }

  /**
   * Waits while the reader takes what is queued, but not for a reader that
   * has stalled: the run must end, and its logs hold everything. What the
   * reader has not taken is left in its stream (a PassThrough keeps it for a
   * caller that reads after the run), followed by the notice of a gap at the end.
   * Resolves with what the reader was not shown when the echo gave up on it
   * (that notice may never be read, so the caller says it elsewhere), or
   * undefined when the reader took everything or went away.
   */
  async settle(stallMs: number, capMs: number): Promise<EchoGaveUp | undefined> {
    if (!this.closed()) this.markGap();
    await untilTaken(() => (this.gone ? 0 : this.pending), stallMs, capMs);
    if (this.gone || this.pending === 0) return undefined;
    const bytes = this.skippedInAll + this.pendingModel;
    const notice = `modelrun: ${this.options.name}'s reader fell behind; ${bytes} bytes not shown; ${this.where()}`;
    return { bytes, notice };
  }

  private where(): string {
    return this.options.logFile === undefined
      ? 'it was not kept (capture_output is false)'
      : `all of it is in ${escapeDeceptive(this.options.logFile)}`;
  }

  private markGap(): void {
    if (this.skipped === 0) return;
    const notice = `\n[modelrun: ${this.skipped} bytes of the model's ${this.options.name} skipped here: the reader fell behind; ${this.where()}]\n`;
    this.skipped = 0;
    this.send(notice, Buffer.byteLength(notice), false);
  }

  private send(data: Buffer | string, size: number, model: boolean): void {
    const modelBytes = model ? size : 0;
    this.pending += size;
    this.pendingModel += modelBytes;
    this.target.write(data, (error?: Error | null) => {
      this.pending -= size;
      this.pendingModel -= modelBytes;
      // The reader going away must not fail the run; the log files still have everything.
      if (error) this.gone = true;
    });
  }

  /** A reader that ended or broke takes no more; writing to it would raise an 'error'. */
  private closed(): boolean {
    const target = this.target as NodeJS.WritableStream & {
      writableEnded?: boolean;
      destroyed?: boolean;
    };
    if (target.writableEnded === true || target.destroyed === true) this.gone = true;
    return this.gone;
  }
}
