import type { Readable, Writable } from 'node:stream';

/**
 * Copies a child's output pipe into the run's output with backpressure, and
 * ends the output when the pipe ends, or when `cut` fires: a process that
 * escaped the model's group can hold the pipe open for ever, and the run
 * must not wait for it. What was read is kept either way; a cut only stops
 * reading. Settles once everything read has been written, with the write
 * error (or the pipe's read error) as a value, never a rejection.
 */
export function pump(
  source: Readable,
  dest: Writable,
  cut: AbortSignal,
): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      dest.off('drain', onDrain);
      dest.off('error', onError);
      cut.removeEventListener('abort', onCut);
      if (error !== undefined) {
        // Nobody reads the pipe any more: the writer gets EPIPE rather than blocking.
        source.destroy();
        resolve(error);
        return;
      }
      dest.end((endError?: Error | null) => resolve(endError ?? undefined));
    };
    const onData = (chunk: Buffer) => {
      if (!dest.write(chunk)) source.pause();
    };
    const onDrain = () => source.resume();
    const onEnd = () => finish();
    const onError = (error: Error) => finish(error);
    const onCut = () => {
      source.destroy();
      finish();
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    dest.on('drain', onDrain);
    dest.once('error', onError);
    if (cut.aborted) onCut();
    else cut.addEventListener('abort', onCut, { once: true });
  });
}
