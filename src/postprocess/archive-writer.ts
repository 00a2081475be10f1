import type { ReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { PackedEntry } from './archive-checksums.js';
import { openSink } from './archive-sink.js';
import type { LeftOut } from './left-out.js';
import { openRegular, unreadable } from './open-chosen.js';

export interface ArchiveJob {
  format: 'tar.gz' | 'zip';
  stagingDir: string;
  /** Regular files and symlinks, sorted; their paths become the entry names. */
  entries: PackedEntry[];
  temp: string;
  signal: AbortSignal;
  /** The comment that marks the archive as modelrun's own. */
  mark: string;
}

export interface ArchiveWritten {
  files: number;
  symlinks: number;
  /** Files that could not be opened for reading (permission denied). */
  leftOut: LeftOut[];
}

/**
 * Streams the entries into `job.temp`, one at a time, each folder before
 * what is in it so that its permissions travel too. A symlink is stored as a
 * symlink, its target as written, never followed. A file that cannot be
 * opened for lack of permission is left out and returned; any other failure
 * (a file that vanished or changed type) fails the archive.
 */
export async function writeArchive(
  job: ArchiveJob,
  report: (line: string) => void,
): Promise<ArchiveWritten> {
  const total = job.entries.reduce(
    (sum, entry) => sum + (entry.stats.isFile() ? entry.stats.size : 0),
    0,
  );
  const progress = progressReporter(total, report);
  const output = (await open(job.temp, 'wx')).createWriteStream();
  const sink = await openSink(job.format, output, job.mark, job.signal);
  const result: ArchiveWritten = { files: 0, symlinks: 0, leftOut: [] };
  const folders = new Set<string>();
  let current: ReadStream | undefined;
  try {
    for (const entry of job.entries) {
      for (const folder of ancestors(entry.path)) {
        if (folders.has(folder)) continue;
        folders.add(folder);
        const stats = await lstat(posix.join(job.stagingDir, folder)).catch(() => undefined);
        if (stats?.isDirectory()) await Promise.race([sink.directory(folder, stats), sink.written]);
      }
      if (entry.target !== undefined) {
        await Promise.race([sink.symlink(entry.path, entry.target, entry.stats), sink.written]);
        result.symlinks += 1;
        continue;
      }
      if (entry.content !== undefined) {
        await Promise.race([
          sink.file(entry.path, entry.stats, Readable.from([entry.content])),
          sink.written,
        ]);
        progress(entry.content.length);
        result.files += 1;
        continue;
      }
      const opened = await openRegular(job.stagingDir, entry);
      if ('reason' in opened) {
        result.leftOut.push(opened);
        continue;
      }
      const { handle, stats } = opened;
      // Never more than the size in the tar header; a file still growing is cut there.
      current = handle.createReadStream({ end: Math.max(stats.size - 1, 0) });
      const body = exactBytes(stats.size, progress);
      const fail = (error: Error) => body.destroy(unreadable(entry.path, error));
      current.once('error', fail).pipe(body);
      await Promise.race([
        sink.file(entry.path, stats, body).catch((error: Error) => {
          throw unreadable(entry.path, error);
        }),
        sink.written,
      ]);
      result.files += 1;
    }
    await Promise.race([sink.finalize(), sink.written]);
    await sink.written;
    return result;
  } catch (error) {
    // Stop reading and writing now, even in the middle of a large file. The
    // writes still queued then fail too; the first error is the one to report.
    current?.destroy();
    sink.destroy();
    output.on('error', () => {}).destroy();
    if (!output.closed) await new Promise<void>((resolve) => output.once('close', () => resolve()));
    throw error;
  }
}

/** "a", "a/b" for "a/b/c.txt": the folders an entry sits in, outermost first. */
function ancestors(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'));
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
