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
