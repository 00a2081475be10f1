import { constants, type ReadStream, type Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Archiver } from 'archiver';

export interface ArchiveJob {
  format: 'tar.gz' | 'zip';
  stagingDir: string;
  /** Relative paths, which become the entry names. */
  files: string[];
  temp: string;
  signal: AbortSignal;
}

/**
 * Streams the files into `job.temp`, one at a time. Each file is opened by us
 * rather than by archiver's own file(), because archiver pipes those streams
 * without listening for their errors: a file that vanished would crash the
 * process instead of failing the archive.
 */
export async function writeArchive(job: ArchiveJob, report: (line: string) => void): Promise<void> {
  const sources = await Promise.all(
    job.files.map(async (name) => {
      const path = join(job.stagingDir, name);
      const stats = await lstat(path).catch((error: Error) => {
        throw unreadable(name, error);
      });
      return { name, path, stats };
    }),
  );
  const total = sources.reduce((sum, source) => sum + source.stats.size, 0);
  const progress = progressReporter(total, report);
  const { TarArchive, ZipArchive } = await import('archiver');
  const archive = job.format === 'zip' ? new ZipArchive() : new TarArchive({ gzip: true });
  const output = (await open(job.temp, 'wx')).createWriteStream();
  const written = pipeline(archive, output, { signal: job.signal });
  // Awaited below through Promise.race; this stops an early failure from counting as unhandled.
  written.catch(() => {});
  let current: ReadStream | undefined;
  try {
    for (const source of sources) {
      // O_NOFOLLOW: a file swapped for a symlink since it was chosen is refused, not followed.
      const handle = await open(source.path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(
        (error: Error) => {
          throw unreadable(source.name, error);
        },
      );
      // Never more than the size in the tar header; a file still growing is cut there.
      current = handle.createReadStream({ end: Math.max(source.stats.size - 1, 0) });
      await Promise.race([appendEntry(archive, current, source, progress), written]);
    }
    await Promise.race([archive.finalize(), written]);
    await written;
  } catch (error) {
    // Stop reading and writing now, even in the middle of a large file. The
    // writes still queued then fail too; the first error is the one to report.
    const ignore = () => {};
    current?.destroy();
    archive.on('error', ignore).destroy();
    output.on('error', ignore).destroy();
    if (!output.closed) await new Promise<void>((resolve) => output.once('close', () => resolve()));
    throw error;
  }
}

function unreadable(name: string, error: Error): Error {
  return new Error(
    `cannot read ${name} in the run directory (${error.message}); check that nothing else changes the outputs while they are archived`,
  );
}

/**
 * Resolves once archiver has taken the whole file, so the next one can start.
 * The file goes through exactBytes() because tar-stream throws an uncatchable
 * "Size mismatch" when an entry ends short of its stated size, and archiver
 * never hears of a read error on a stream it was given.
 */
function appendEntry(
  archive: Archiver,
  file: ReadStream,
  source: { name: string; stats: Stats },
  progress: (bytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = exactBytes(source.stats.size, progress);
    const fail = (error: Error) => reject(unreadable(source.name, error));
    file.once('error', fail).pipe(body).once('error', fail);
    archive.once('entry', () => resolve());
    // With stats, tar streams the entry with its known size instead of buffering it.
    archive.append(body, { name: source.name, stats: source.stats });
  });
}

/**
 * Passes on exactly `size` bytes: drops any beyond, and fails instead of
 * ending when fewer arrive, so a short entry never reaches the archive.
 */
export function exactBytes(size: number, onBytes: (bytes: number) => void = () => {}): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const taken = chunk.subarray(0, Math.max(size - seen, 0));
      seen += taken.length;
      onBytes(taken.length);
      callback(null, taken.length > 0 ? taken : undefined);
    },
    flush(callback) {
      callback(
        seen < size
          ? new Error(`it shrank from ${size} to ${seen} bytes while it was being archived`)
          : null,
      );
    },
  });
}

/**
 * Counts bytes read and reports them at most once per `intervalMs`, the first
 * time only after a full interval, so small archives print nothing.
 */
export function progressReporter(
  totalBytes: number,
  report: (line: string) => void,
  now: () => number = Date.now,
  intervalMs = 1000,
): (bytes: number) => void {
  let done = 0;
  let last = now();
  return (bytes) => {
    done += bytes;
    const time = now();
    if (time - last < intervalMs) return;
    last = time;
    const percent = totalBytes === 0 ? 100 : Math.floor((done / totalBytes) * 100);
    report(`${formatBytes(done)} of ${formatBytes(totalBytes)} (${percent}%)`);
  };
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 512 B, 3.1 MiB, 1.2 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}
