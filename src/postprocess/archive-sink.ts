import { constants, type Stats } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * One archive being written, entry by entry. Each call resolves once the
 * entry is taken, so the next one can start.
 *
 * Every entry keeps its permission bits (mode & 0o777, a mode of 000
 * included) and loses setuid, setgid and sticky: root extracting a user's
 * archive must not get a setuid-root program. A tar entry records the file's
 * owner as numbers only (no user or group name); zip records no owner.
 */
export interface ArchiveSink {
  directory(name: string, stats: Stats): Promise<void>;
  symlink(name: string, target: string, stats: Stats): Promise<void>;
  file(name: string, stats: Stats, body: Readable): Promise<void>;
  finalize(): Promise<void>;
  /** Settles when the whole archive is written, or at the first error. */
  written: Promise<void>;
  destroy(): void;
}

/** Written into the gzip header or the zip comment, so modelrun knows its own archives. */
export const ARCHIVE_MARK = 'modelrun archive';

const permissions = (stats: Stats) => stats.mode & 0o777;

export async function openSink(
  format: 'tar.gz' | 'zip',
  output: Writable,
  mark: string,
  signal: AbortSignal,
): Promise<ArchiveSink> {
  return format === 'zip' ? zipSink(output, mark, signal) : tarSink(output, mark, signal);
}

async function tarSink(output: Writable, mark: string, signal: AbortSignal): Promise<ArchiveSink> {
  // The default export: the bundle gives a CommonJS package's dynamic import no named exports.
  type TarStream = typeof import('tar-stream');
  const loaded = (await import('tar-stream')) as TarStream & { default?: TarStream };
  const pack = (loaded.default ?? loaded).pack();
  const gzip = createGzip();
  const written = pipeline(pack, gzip, gzipComment(mark), output, { signal });
  written.catch(() => {});
  const owner = (stats: Stats) => ({ uid: stats.uid, gid: stats.gid, mtime: stats.mtime });
  // tar-stream takes a mode of 0 as "none" and writes 0644; the file-type bit
  // keeps it a number it honours, and the header stores only the low 12 bits.
  const entry = (header: Parameters<typeof pack.entry>[0], body?: Readable) =>
    new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (body === undefined) pack.entry(header, Buffer.alloc(0), done);
      else body.once('error', reject).pipe(pack.entry(header, done));
    });
  return {
    directory: (name, stats) =>
      entry({
        name: `${name}/`,
        type: 'directory',
        mode: constants.S_IFDIR | permissions(stats),
        ...owner(stats),
      }),
    symlink: (name, target, stats) =>
      entry({
        name,
        type: 'symlink',
        linkname: target,
        mode: constants.S_IFLNK | permissions(stats),
        ...owner(stats),
      }),
    file: (name, stats, body) =>
      entry(
        {
          name,
          type: 'file',
          size: stats.size,
          mode: constants.S_IFREG | permissions(stats),
          ...owner(stats),
        },
        body,
      ),
    finalize: async () => pack.finalize(),
    written,
    destroy: () => {
      const ignore = () => {};
      pack.on('error', ignore).destroy();
      gzip.on('error', ignore).destroy();
    },
  };
}

async function zipSink(output: Writable, mark: string, signal: AbortSignal): Promise<ArchiveSink> {
  const { ZipArchive } = await import('archiver');
  const archive = new ZipArchive({ comment: mark });
  const written = pipeline(archive, output, { signal });
  written.catch(() => {});
  const taken = (add: () => void, body?: Readable) =>
    new Promise<void>((resolve, reject) => {
      body?.once('error', reject);
      archive.once('entry', () => resolve());
      add();
    });
  return {
    directory: (name, stats) =>
      taken(() =>
        archive.append(Buffer.alloc(0), {
          name: `${name}/`,
          type: 'directory',
          mode: permissions(stats),
          date: stats.mtime,
        }),
      ),
    symlink: (name, target, stats) =>
      taken(() => archive.symlink(name, target, permissions(stats))),
    file: (name, stats, body) =>
      taken(
        () => archive.append(body, { name, mode: permissions(stats), date: stats.mtime }),
        body,
      ),
    finalize: () => archive.finalize(),
    written,
    destroy: () => {
      archive.on('error', () => {}).destroy();
    },
  };
}

/**
 * Sets the comment field (FCOMMENT) of the gzip header that zlib writes.
 * The header has no checksum of its own and the trailer's covers only the
 * data, so adding the comment is all there is to it.
 */
export function gzipComment(comment: string): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head === undefined) return callback(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < 10) return callback();
      const fixed = Buffer.from(head.subarray(0, 10));
      fixed[3] = (fixed[3] as number) | 0x10;
      const rest = head.subarray(10);
      head = undefined;
      callback(null, Buffer.concat([fixed, Buffer.from(`${comment}\0`, 'latin1'), rest]));
    },
    flush(callback) {
      callback(null, head);
    },
  });
}

/**
 * Whether `bytes`, the start of a file, is a gzip stream whose header comment
 * begins with `mark`; only that comment field (FLG = FCOMMENT) is looked at.
 */
export function gzipCommentStartsWith(bytes: Buffer, mark: string): boolean {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 8 || bytes[3] !== 0x10) return false;
  return bytes.subarray(10, 10 + mark.length).toString('latin1') === mark;
}

/** Whether `tail`, the end of a file, is a zip's end record with a comment beginning with `mark`. */
export function zipCommentStartsWith(tail: Buffer, mark: string): boolean {
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== 0x06054b50) continue;
    const length = tail.readUInt16LE(at + 20);
    if (at + 22 + length !== tail.length) continue;
    return tail.subarray(at + 22, at + 22 + mark.length).toString('latin1') === mark;
  }
  return false;
}
