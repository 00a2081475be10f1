/**
 * Writes one chunk and waits until the stream has taken it. One chunk in
 * flight per stream is the backpressure; a failure arrives through the
 * callback, never as an unheard 'error' event.
 */
export function writeChunk(stream: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

type Closable = NodeJS.WritableStream & {
  writableFinished?: boolean;
  writableEnded?: boolean;
  destroyed?: boolean;
};

/** Ends a stream (unless its writer already has) and waits until all it was given is written. */
export function endAndWait(stream: Closable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableFinished || stream.destroyed) {
      resolve();
      return;
    }
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
    if (stream.writableEnded) stream.once('finish', () => resolve());
    else stream.end(() => resolve());
  });
}

/**
 * Resolves once `pending()` is 0, or once it has not gone down for
 * `stallMs` (a reader that stopped reading), or after `capMs` in all (a
 * reader too slow to wait for).
 */
export async function untilTaken(
  pending: () => number,
  stallMs: number,
  capMs: number,
): Promise<void> {
  const started = Date.now();
  let lastProgress = started;
  let last = pending();
  while (last > 0) {
    const now = Date.now();
    if (now - lastProgress >= stallMs || now - started >= capMs) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const current = pending();
    if (current < last) lastProgress = Date.now();
    last = current;
  }
}

/**
 * Streams whose stalled reader modelrun has already told about what it was
 * not shown, so that exiting does not say it twice.
 */
export const stallReported = new WeakSet<object>();
