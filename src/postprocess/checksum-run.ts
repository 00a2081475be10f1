import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChecksumConfig } from './checksum.js';
import { isWrittenChecksumFile, noteChecksumFile } from './checksum-written.js';
import { type LeftOut, leftOutDetails, leftOutSuffix } from './left-out.js';
import { linkNotChecksummed } from './link-rule.js';
import { symlinkOnTheWay } from './links-on-the-way.js';
import { openRegular } from './open-chosen.js';
import {
  describeCount,
  noFilesMessage,
  type SelectedEntry,
  selectEntries,
  stagingDirProblem,
} from './select-files.js';
import type { PostprocessContext, PostprocessOutcome } from './types.js';

/** Writes the checksum file of a finished run (checksum.ts). */
export async function checksumRun(
  config: ChecksumConfig,
  context: PostprocessContext,
): Promise<PostprocessOutcome> {
  const { stagingDir, signal } = context;
  const problem =
    (await stagingDirProblem(stagingDir)) ?? (await outputProblem(stagingDir, config.output));
  if (problem !== undefined) return failed(problem);
  const { entries, leftOut } = await selectEntries(stagingDir, {
    include: config.include,
    exclude: config.exclude,
    skip: [config.output],
  });
  // A checksum list names regular files only: sha256sum -c would read through a link.
  const links = entries.filter((entry) => entry.target !== undefined);
  const all = [
    ...leftOut,
    ...(await Promise.all(links.map((link) => linkNotChecksummed(stagingDir, link)))),
  ];
  const files = entries.filter((entry) => entry.target === undefined);
  if (files.length === 0) return failed(noFilesMessage(config, all));

  const path = join(stagingDir, config.output);
  // Next to the output for an atomic rename, and created after the files are chosen.
  const temp = `${path}.${randomBytes(4).toString('hex')}.partial`;
  const lines: string[] = [];
  try {
    for (const file of files) {
      const hex = await sha256(stagingDir, file, signal);
      if (typeof hex === 'string') lines.push(checksumLine(hex, file.path));
      else all.push(hex);
    }
    const text = lines.join('');
    await writeAtomically(path, temp, text).catch((error: Error) => {
      throw new Error(
        `cannot write ${path}: ${error.message}; check that the run directory is writable`,
      );
    });
    // Noted for the next run to replace; if it cannot be, the file is only kept, never lost.
    await noteChecksumFile(stagingDir, config.output, text).catch(() => undefined);
  } catch (error) {
    await rm(temp, { force: true });
    if (signal.aborted)
      return failed('stopped because the run was interrupted; nothing was written');
    return failed((error as Error).message);
  }
  all.sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    status: 'succeeded',
    summary: `wrote ${config.output} (${describeCount(lines.length)})${leftOutSuffix(all)}`,
    details: { path, files: lines.length, ...leftOutDetails(all) },
  };
}

function failed(reason: string): PostprocessOutcome {
  return { status: 'failed', summary: reason };
}

/**
 * Why the checksum file cannot be written at `output`: each folder on the way
 * must be a real folder in the run directory, not a symlink that could lead
 * out of it, and the file, if there, a checksum file modelrun wrote (the
 * model's own file of that name is not replaced).
 */
async function outputProblem(stagingDir: string, output: string): Promise<string | undefined> {
  const link = await symlinkOnTheWay(stagingDir, output);
  if (link !== undefined)
    return `output "${output}" goes through the symlink ${link}, and the checksum file is only written inside the run directory; give a path without links`;
  const parts = output.split('/');
  for (let depth = 1; depth <= parts.length; depth++) {
    const relative = parts.slice(0, depth).join('/');
    const stats = await lstat(join(stagingDir, relative)).catch(
      (error: NodeJS.ErrnoException) => error,
    );
    if (stats instanceof Error) {
      if (stats.code === 'ENOENT') return undefined;
      return `cannot check ${relative} in the run directory for output: ${stats.message}`;
    }
    const last = depth === parts.length;
    if (!last && !stats.isDirectory())
      return `output "${output}" needs ${relative} to be a folder, but it is a file; choose another output`;
    if (last && !stats.isFile())
      return `output "${output}" is ${stats.isDirectory() ? 'a folder' : 'not a regular file'} in the run directory; give the name of a file, such as "${relative}/SHA256SUMS"`;
    if (last && !(await isWrittenChecksumFile(stagingDir, output)))
      return `output "${output}" already exists in the run directory and is not a checksum file modelrun wrote, so it is not overwritten; set output to another name, such as "checksums/SHA256SUMS", or remove the file`;
  }
  return undefined;
}

async function writeAtomically(path: string, temp: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(temp, text, { flag: 'wx' });
  await rename(temp, path);
}

/** The file's SHA-256 in hex, or why it was left out (it cannot be read). */
async function sha256(
  stagingDir: string,
  file: SelectedEntry,
  signal: AbortSignal,
): Promise<string | LeftOut> {
  const opened = await openRegular(stagingDir, file);
  if ('reason' in opened) return opened;
  const hash = createHash('sha256');
  try {
    for await (const chunk of opened.handle.createReadStream({ signal })) hash.update(chunk);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Error(`cannot read ${file.path} in the run directory: ${(error as Error).message}`);
  }
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
