import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import * as z from 'zod';
import { documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { globFields, postprocessorFields } from './common.js';
import {
  describeCount,
  MODELRUN_FOLDER,
  noFilesMessage,
  selectFiles,
  stagingDirProblem,
} from './select-files.js';
import type { PostprocessContext, PostprocessOutcome, PostprocessorDefinition } from './types.js';

/**
 * Relative, no "..", not under .modelrun/, not a folder: a file inside the
 * run directory.
 */
const RELATIVE_INSIDE =
  /^(?![/~])(?!(?:.*[\\/])?\.\.(?:[\\/]|$))(?!(?:\.\/+)*\.modelrun(?:\/|$))(?!.*\/$)(?!(?:\.\/*)+$).+$/;

/** Why `output` would not name a file inside the run directory. */
function outputPathProblem(written: string): string | undefined {
  const hint = 'give a path relative to the run directory, such as "SHA256SUMS"';
  if (posix.isAbsolute(written) || written.startsWith('~')) {
    const where = written.startsWith('~') ? 'points into the home folder' : 'is absolute';
    return `"${written}" ${where}, but the checksum file is written inside the run directory; ${hint}`;
  }
  if (written.split(/[\\/]/).includes('..')) {
    return `"${written}" uses "..", but the checksum file must stay inside the run directory; ${hint}`;
  }
  const normal = posix.normalize(written);
  if (normal === '.' || normal.endsWith('/'))
    return `"${written}" names a folder, not a file; ${hint}`;
  if (normal.split('/')[0] === MODELRUN_FOLDER)
    return `"${written}" is inside ${MODELRUN_FOLDER}/, which modelrun keeps for itself; ${hint}`;
  return undefined;
}

export function checksumConfigSchema(_ctx: PathContext) {
  return strictObject({
    ...postprocessorFields(
      'checksum',
      'Writes a SHA-256 checksum file of the outputs, which `sha256sum -c` can check.',
    ),
    ...globFields(),
    output: documented(
      z
        .string()
        .min(1, { error: 'a path cannot be empty' })
        // The same rules as outputPathProblem, as a pattern, so that the JSON Schema enforces them too.
        .regex(RELATIVE_INSIDE, {
          error: (issue) =>
            outputPathProblem(String(issue.input)) ??
            'must be a file path inside the run directory',
        }),
      {
        description:
          'Name of the checksum file, relative to the run directory, which it must stay inside. Check the outputs with `sha256sum -c SHA256SUMS` run in that directory.',
        examples: ['SHA256SUMS', 'checksums/outputs.sha256'],
      },
    )
      // Normal form ("./a//b" → "a/b"), so that it matches the relative paths of the files.
      .transform((written) => posix.normalize(written))
      .default('SHA256SUMS'),
  });
}

export type ChecksumConfig = z.output<ReturnType<typeof checksumConfigSchema>>;

export const checksumPostprocessor: PostprocessorDefinition = {
  type: 'checksum',
  description: 'writes a SHA256SUMS file of the outputs',
  configSchema: checksumConfigSchema,
  summaryFields: ['output', 'include', 'exclude'],
  template: { required: {} },
  run: (config, context) => checksumRun(config as ChecksumConfig, context),
};

async function checksumRun(
  config: ChecksumConfig,
  context: PostprocessContext,
): Promise<PostprocessOutcome> {
  const { stagingDir, signal } = context;
  const problem = await stagingDirProblem(stagingDir);
  if (problem !== undefined) return failed(problem);
  const files = await selectFiles(stagingDir, {
    include: config.include,
    exclude: config.exclude,
    skip: [config.output],
  });
  if (files.length === 0) return failed(noFilesMessage(config));

  const path = join(stagingDir, config.output);
  // Next to the output for an atomic rename, and created after the files are chosen.
  const temp = `${path}.${randomBytes(4).toString('hex')}.partial`;
  try {
    const lines: string[] = [];
    for (const file of files) {
      const hex = await sha256(join(stagingDir, file), signal).catch((error: Error) => {
        throw new Error(`cannot read ${file} in the run directory: ${error.message}`);
      });
      lines.push(checksumLine(hex, file));
    }
    await writeAtomically(path, temp, lines.join('')).catch((error: Error) => {
      throw new Error(
        `cannot write ${path}: ${error.message}; check that the run directory is writable`,
      );
    });
  } catch (error) {
    await rm(temp, { force: true });
    if (signal.aborted)
      return failed('stopped because the run was interrupted; nothing was written');
    return failed((error as Error).message);
  }
  return {
    status: 'succeeded',
    summary: `wrote ${config.output} (${describeCount(files.length)})`,
    details: { path, files: files.length },
  };
}

function failed(reason: string): PostprocessOutcome {
  return { status: 'failed', summary: reason };
}

async function writeAtomically(path: string, temp: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(temp, text, { flag: 'wx' });
  await rename(temp, path);
}

async function sha256(path: string, signal: AbortSignal): Promise<string> {
  // O_NOFOLLOW: a file swapped for a symlink since it was chosen is refused, not followed.
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const hash = createHash('sha256');
  for await (const chunk of handle.createReadStream({ signal })) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * One line as GNU sha256sum writes it. A name holding a backslash, newline or
 * carriage return is escaped (\\, \n, \r) and the line starts with a
 * backslash. \r is escaped as coreutils 9.1 does, because `-c` would take a
 * trailing one for a DOS line ending and look for a file without it.
 */
export function checksumLine(hex: string, name: string): string {
  if (!/[\\\n\r]/.test(name)) return `${hex}  ${name}\n`;
  const escaped = name.replace(/[\\\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r',
  );
  return `\\${hex}  ${escaped}\n`;
}
