import type { ProgressMessage } from './client.js';

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The engine reports a failed pull or build inside the stream, not as an error: find it. */
export function messageError(message: ProgressMessage): string | undefined {
  return message.errorDetail?.message ?? message.error;
}

/**
 * Shows a pull as it happens: on a terminal, one line per layer with its
 * bytes, redrawn in place; elsewhere (CI logs), a line each time a layer
 * changes state, never a line per progress tick.
 */
export class PullDisplay {
  private readonly layers = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly now: () => number = Date.now,
  ) {}

  update(message: ProgressMessage): void {
    const { id, status } = message;
    if (status === undefined) return;
    if (id === undefined || !/^[0-9a-f]{12}$/.test(id)) {
      // "Pulling from library/ubuntu", "Digest: sha256:…", "Status: Downloaded newer image…"
      this.line(id === undefined ? status : `${id}: ${status}`);
      return;
    }
    const detail = message.progressDetail;
    const bytes = detail?.total
      ? ` ${formatMiB(detail.current ?? 0)}/${formatMiB(detail.total)}`
      : '';
    const text = `${status}${bytes}`;
    const before = this.layers.get(id);
    this.layers.set(id, text);
    if (this.sink.isTTY === true) this.redraw(status !== 'Downloading' && status !== 'Extracting');
    else if (before?.split(' ')[0] !== status.split(' ')[0])
      this.sink.write(`  ${id}: ${status}\n`);
  }

  private line(text: string): void {
    if (this.sink.isTTY === true) this.drawn = 0;
    this.sink.write(`${text}\n`);
  }

  /** Redraws the layer lines; byte counts at most ten times a second, state changes at once. */
  private redraw(force: boolean): void {
    if (!force && this.now() - this.lastDraw < 100) return;
    this.lastDraw = this.now();
    // Move up over the previous drawing and clear it.
    let text = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    for (const [id, state] of this.layers) text += `\u001b[2K  ${id}: ${state}\n`;
    this.drawn = this.layers.size;
    this.sink.write(text);
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
