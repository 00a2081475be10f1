import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import * as z from 'zod';
import { describeValue, documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath } from '../config/paths.js';
import { formatBytes, writeArchive } from './archive-writer.js';
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
  return { status: 'failed', summary: reason };
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
