import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ArchiveConfig } from './archive.js';
import { trimChecksumFiles } from './archive-checksums.js';
import { destinationProblem, pathInside } from './archive-destination.js';
import { ARCHIVE_MARK } from './archive-sink.js';
import { type ArchiveWritten, formatBytes, writeArchive } from './archive-writer.js';
import { leftOutDetails, leftOutSuffix } from './left-out.js';
import { archivable, describeLinks } from './link-rule.js';
import { pathInRun, symlinkOnTheWay } from './links-on-the-way.js';
import { describeCount, noFilesMessage, selectEntries, stagingDirProblem } from './select-files.js';
import type { PostprocessContext, PostprocessOutcome } from './types.js';

/** Writes the archive of a finished run (archive.ts). */
export async function archiveRun(
  config: ArchiveConfig,
  context: PostprocessContext,
): Promise<PostprocessOutcome> {
  const { stagingDir, signal } = context;
  const destination =
    config.destination ?? join(context.outputDir, `${context.runId}.${config.format}`);
  if (signal.aborted) return failed('the run was interrupted before the archive was started');
  const problem =
    (await stagingDirProblem(stagingDir)) ??
    (await linkInRun(stagingDir, destination)) ??
    (await destinationProblem(destination));
  if (problem !== undefined) return failed(problem);

  const folder = dirname(destination);
  const madeFolder = await mkdir(folder, { recursive: true }).catch((error: Error) => error);
  if (madeFolder instanceof Error) {
    return failed(
      `cannot create the folder ${folder} for the archive: ${madeFolder.message}; check its permissions, or set destination to a writable place`,
    );
  }
  const selected = await selectEntries(stagingDir, {
    include: config.include,
    exclude: config.exclude,
    skip: await pathInside(stagingDir, destination),
  });
  const { taken, leftOut: outside } = await archivable(stagingDir, selected.entries);
  const { entries, notes, leftOut: unlisted } = await trimChecksumFiles(stagingDir, taken);
  const leftOut = [...selected.leftOut, ...outside, ...unlisted];
  if (entries.length === 0) return failed(noFilesMessage(config, leftOut));
  // archiver turns every backslash in a zip entry name into "/", which would
  // quietly move such a file into a folder that does not exist.
  const backslashed = entries.filter(
    (entry) => config.format === 'zip' && `${entry.path}${entry.target ?? ''}`.includes('\\'),
  );
  if (backslashed.length > 0) {
    return failed(
      `cannot archive ${backslashed.map((entry) => JSON.stringify(entry.path)).join(', ')} in a zip: a backslash in a name would become a folder separator; use format tar.gz, rename the file or leave it out with exclude`,
    );
  }

  // A hidden name next to the destination, so the rename is atomic (same file
  // system) and nobody mistakes a half-written archive for a finished one. It is
  // created after the files are chosen, so it can never be taken into itself.
  const temp = join(folder, `.${basename(destination)}.${randomBytes(4).toString('hex')}.partial`);
  let written: ArchiveWritten;
  try {
    written = await writeArchive(
      {
        format: config.format,
        stagingDir,
        entries,
        temp,
        signal,
        mark: `${ARCHIVE_MARK} of run ${context.runId}`,
      },
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
  const all = [...leftOut, ...written.leftOut].sort((a, b) => (a.path < b.path ? -1 : 1));
  const links = describeLinks(entries);
  return {
    status: 'succeeded',
    summary: `wrote ${destination} (${describeCount(written.files)}${links}, ${formatBytes(size)})${leftOutSuffix(all)}${notes.map((note) => `; ${note}`).join('')}`,
    details: {
      path: destination,
      format: config.format,
      files: written.files,
      symlinks: written.symlinks,
      bytes: size,
      ...leftOutDetails(all),
    },
  };
}

/**
 * Why a destination inside the run directory cannot be written: it goes
 * through a symlink there, which a model may have pointed anywhere. Outside
 * the run directory the path is the user's own, links and all.
 */
async function linkInRun(stagingDir: string, destination: string): Promise<string | undefined> {
  const inRun = await pathInRun(stagingDir, destination);
  const link = inRun === undefined ? undefined : await symlinkOnTheWay(stagingDir, inRun);
  if (link === undefined) return undefined;
  return `the destination ${destination} goes through the symlink ${link} in the run directory, and an archive is written there only through real folders; give a path without links, or one outside the run directory`;
}

function failed(reason: string): PostprocessOutcome {
  return { status: 'failed', summary: reason };
}
