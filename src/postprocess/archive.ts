import { randomBytes } from 'node:crypto';
import { constants, type ReadStream, type Stats } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Archiver } from 'archiver';
import * as z from 'zod';
import { describeValue, documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath } from '../config/paths.js';
import { globFields, postprocessorFields } from './common.js';
import { describeCount, noFilesMessage, selectFiles, stagingDirProblem } from './select-files.js';
import type { PostprocessContext, PostprocessOutcome, PostprocessorDefinition } from './types.js';

const FORMATS = ['tar.gz', 'zip'] as const;

export function archiveConfigSchema(ctx: PathContext) {
  return strictObject({
    ...postprocessorFields('archive', "Packs the run's outputs into one tar.gz or zip file."),
    format: documented(
      z.enum(FORMATS, {
        error: (issue) => `must be "tar.gz" or "zip"; got ${describeValue(issue.input)}`,
      }),
      {
        description:
          'Archive format: "tar.gz" (keeps file permissions, best on Linux and macOS) or "zip" (opens anywhere).',
        examples: ['zip'],
      },
    ).default('tar.gz'),
    ...globFields(),
    destination: anyPath(ctx, {
      description:
        "Where to write the archive. Relative paths are resolved against this config file's folder; missing folders are created. Default: <output_dir>/<run id>.tar.gz (or .zip).",
      examples: ['archives/latest.tar.gz'],
    }).optional(),
  });
}

export type ArchiveConfig = z.output<ReturnType<typeof archiveConfigSchema>>;

export const archivePostprocessor: PostprocessorDefinition = {
  type: 'archive',
  description: "packs the run's outputs into a tar.gz or zip file",
  configSchema: archiveConfigSchema,
  summaryFields: ['format', 'destination', 'include', 'exclude'],
  template: { required: {} },
  run: (config, context) => archiveRun(config as ArchiveConfig, context),
};

async function archiveRun(
  config: ArchiveConfig,
  context: PostprocessContext,
): Promise<PostprocessOutcome> {
  const { stagingDir, signal } = context;
  const destination =
    config.destination ?? join(context.outputDir, `${context.runId}.${config.format}`);
  if (signal.aborted) return failed('the run was interrupted before the archive was started');
  const problem = await stagingDirProblem(stagingDir);
  if (problem !== undefined) return failed(problem);

  const folder = dirname(destination);
  const madeFolder = await mkdir(folder, { recursive: true }).catch((error: Error) => error);
  if (madeFolder instanceof Error) {
    return failed(
      `cannot create the folder ${folder} for the archive: ${madeFolder.message}; check its permissions, or set destination to a writable place`,
    );
  }
  const files = await selectFiles(stagingDir, {
    include: config.include,
    exclude: config.exclude,
    skip: await pathInside(stagingDir, destination),
  });
  if (files.length === 0) return failed(noFilesMessage(config));
  // archiver turns every backslash in an entry name into "/", which would
  // quietly move such a file into a folder that does not exist.
  const backslashed = files.filter((file) => file.includes('\\'));
  if (backslashed.length > 0) {
    return failed(
      `cannot archive ${backslashed.map((file) => JSON.stringify(file)).join(', ')}: a backslash in a name would become a folder separator; rename the file or leave it out with exclude`,
    );
  }

  // A hidden name next to the destination, so the rename is atomic (same file
  // system) and nobody mistakes a half-written archive for a finished one. It is
  // created after the files are chosen, so it can never be taken into itself.
  const temp = join(folder, `.${basename(destination)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    await writeArchive(
      { format: config.format, stagingDir, files, temp, signal },
      context.progress,
    );
    await rename(temp, destination);
  } catch (error) {
    await rm(temp, { force: true });
    if (signal.aborted)
      return failed('stopped because the run was interrupted; no archive was written');
    return failed(
      `could not write ${destination}: ${(error as Error).message}; no archive was written`,
    );
  }
  const { size } = await stat(destination);
  return {
    status: 'succeeded',
    summary: `wrote ${destination} (${describeCount(files.length)}, ${formatBytes(size)})`,
    details: { path: destination, format: config.format, files: files.length, bytes: size },
  };
}

function failed(reason: string): PostprocessOutcome {
  return { status: 'failed', summary: `archive: ${reason}` };
}

/**
 * The destination as a path relative to the staging directory, when it lies
 * inside it. Both are compared through realpath, so that a symlinked /tmp or
 * home folder cannot hide that they are the same place.
 */
async function pathInside(stagingDir: string, destination: string): Promise<string[]> {
  const realStaging = await realpath(stagingDir);
  const realDestination = join(await realpath(dirname(destination)), basename(destination));
  const path = relative(realStaging, realDestination);
  const inside = path !== '' && !isAbsolute(path) && !path.split('/').includes('..');
  return inside ? [path] : [];
}

interface ArchiveJob {
  format: ArchiveConfig['format'];
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
async function writeArchive(job: ArchiveJob, report: (line: string) => void): Promise<void> {
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
    report(`archive: ${formatBytes(done)} of ${formatBytes(totalBytes)} (${percent}%)`);
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
