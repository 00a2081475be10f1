import type { Dirent } from 'node:fs';
import {
  constants,
  copyFile,
  open,
  readdir,
  readlink,
  realpath,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { visibleName } from '../exec/visible-name.js';
import { firstInvalidOffset } from '../utf8.js';
import { StagingWriter } from './staging-writer.js';
import type { TemplateContext } from './template-context.js';
import { templateFsError } from './template-fs-error.js';
import { hex } from './template-loader.js';
import { openRenderer, RenderAborted, type TemplateRenderer } from './template-renderer.js';

/** Files with a NUL byte in their first 8 KiB are binary, and copied untouched. */
const SNIFF_BYTES = 8192;
/** modelrun's own folder in the staging dir (run.json, the lock, env files). */
const BOOKKEEPING = '.modelrun';

export interface RenderSummary {
  files: number;
  rendered: number;
  copied: number;
  linked: number;
  /** Lines for the user: files that look like templates but were copied untouched. */
  warnings: string[];
}

export interface RenderOptions {
  /** Files, relative to the staging dir, that no entry may be staged over (see StagingWriter). */
  keep?: string[];
  /** Stops rendering between entries once aborted. */
  signal?: AbortSignal | undefined;
}

/**
 * Renders a template folder into the staging directory with Nunjucks: file
 * contents and file and folder names alike. Symlinks are staged as symlinks
 * with the same target, never followed. Nothing is written outside the
 * staging directory, whatever a name renders to and whatever symlinks the
 * staging directory already holds, and nothing is read from outside the
 * template folder.
 */
export async function renderTemplate(
  templateDir: string,
  stagingDir: string,
  context: TemplateContext,
  options: RenderOptions = {},
): Promise<RenderSummary> {
  const templateRoot = await realpath(templateDir).catch((error) => {
    throw templateFsError(error, `the template folder ${templateDir}`);
  });
  const writer = await StagingWriter.open(stagingDir, options.keep);
  const renderer = await openRenderer(templateRoot, context, options.signal);
  const summary: RenderSummary = { files: 0, rendered: 0, copied: 0, linked: 0, warnings: [] };

  const stageFile = async (source: string, dir: string, name: string): Promise<void> => {
    const path = join(templateRoot, source);
    const file = await readTemplateFile(path, source);
    if (file.kind === 'binary') {
      await writer.file(dir, name, source, file.mode, (temp) =>
        copyFile(path, temp, constants.COPYFILE_EXCL),
      );
      summary.copied++;
      return;
    }
    const bad = firstInvalidOffset(file.bytes);
    if (bad < file.bytes.length) {
      await writer.file(dir, name, source, file.mode, (temp) =>
        writeFile(temp, file.bytes, { flag: 'wx' }),
      );
      if (/[{][{%]/.test(file.bytes.toString('latin1')))
        summary.warnings.push(
          `template ${source} was copied, not rendered: it is not UTF-8 text (byte ${bad} is 0x${hex(file.bytes[bad])}); save it as UTF-8 to render it`,
        );
      summary.copied++;
      return;
    }
    const text = await renderer.render(source, file.bytes.toString('utf8'), path);
    await writer.file(dir, name, source, file.mode, (temp) =>
      writeFile(temp, text, { flag: 'wx' }),
    );
    summary.rendered++;
  };

  const walk = async (sourceDir: string, targetDir: string): Promise<void> => {
    // Read as bytes: a name that is not UTF-8 would otherwise arrive with
    // U+FFFD in place of its bad bytes, the name of no file.
    const listed = await readdir(join(templateRoot, sourceDir), {
      withFileTypes: true,
      encoding: 'buffer',
    }).catch((error) => {
      throw templateFsError(error, `template folder ${sourceDir || templateDir}`);
    });
    const entries = listed.map((entry) => ({ entry, name: utf8Name(sourceDir, entry.name) }));
    for (const { entry, name: entryName } of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      // A signal stops staging between entries; the caller sees signal.aborted.
      if (options.signal?.aborted) return;
      const source = join(sourceDir, entryName);
      const name = await renderName(renderer, entryName, source);
      if (sourceDir === '') refuseBookkeeping(entryName, name);
      if (entry.isDirectory()) {
        await walk(source, await writer.folder(targetDir, name, source));
        continue;
      }
      if (entry.isSymbolicLink()) {
        const target = await readlink(join(templateRoot, source)).catch((error) => {
          throw templateFsError(error, `template symlink ${source}`);
        });
        await writer.link(targetDir, name, source, target);
        summary.linked++;
      } else if (entry.isFile()) {
        await stageFile(source, targetDir, name);
      } else {
        throw specialFile(source, entry);
      }
      summary.files++;
    }
  };
  try {
    await walk('', writer.root);
  } catch (error) {
    // A signal ended a render midway; the caller sees signal.aborted.
    if (!(error instanceof RenderAborted)) throw error;
  } finally {
    await renderer.close();
  }
  return summary;
}

type TemplateFile =
  | { kind: 'binary'; mode: number }
  | { kind: 'text'; mode: number; bytes: Buffer };

/**
 * Reads a template file, unless its first 8 KiB say it is binary. Opened
 * without following a link and without blocking, so an entry swapped for a
 * link or a FIFO since it was listed is refused rather than read or hung on.
 */
async function readTemplateFile(path: string, source: string): Promise<TemplateFile> {
  const what = `template file ${source}`;
  const handle = await open(
    path,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  ).catch((error) => {
    throw templateFsError(error, what);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ConfigError(`${what} is no longer a regular file`);
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    if (head.subarray(0, bytesRead).includes(0)) return { kind: 'binary', mode: stats.mode };
    return { kind: 'text', mode: stats.mode, bytes: await handle.readFile() };
  } catch (error) {
    throw templateFsError(error, what);
  } finally {
    await handle.close();
  }
}

/**
 * A template entry's name as text. Names are rendered as templates and
 * written as text, so one that is not UTF-8 is refused, shown with its bad
 * bytes as \xNN, rather than staged under a name no file has.
 */
function utf8Name(sourceDir: string, raw: Buffer): string {
  const bad = firstInvalidOffset(raw);
  if (bad === raw.length) return raw.toString('utf8');
  const shown =
    sourceDir === '' ? visibleName(raw) : `${visibleName(sourceDir)}/${visibleName(raw)}`;
  throw new ConfigError(
    `template entry ${shown}: its name is not UTF-8 (byte ${bad} is 0x${hex(raw[bad])}), so it cannot be staged`,
    {
      hint: `rename it to a UTF-8 name in the template folder (bash spells this one $'${shown.replace(/'/g, "\\'")}'), or remove it`,
    },
  );
}

function specialFile(source: string, entry: Dirent<Buffer>): ConfigError {
  const kind = entry.isFIFO()
    ? 'a FIFO (named pipe)'
    : entry.isSocket()
      ? 'a socket'
      : entry.isBlockDevice() || entry.isCharacterDevice()
        ? 'a device'
        : 'not a file, folder or symlink';
  return new ConfigError(`template entry ${source} is ${kind}; it cannot be staged`, {
    hint: 'a template folder holds files, folders and symlinks only: remove it from the template folder',
  });
}

/** A rendered name must be one name: no "/", no NUL, not "." or "..", so it stays in its folder. */
async function renderName(
  renderer: TemplateRenderer,
  name: string,
  source: string,
): Promise<string> {
  if (!/[{][{%#]/.test(name)) return name;
  const rendered = (await renderer.render(`the name of ${source}`, name)).trim();
  if (rendered === '') {
    throw new ConfigError(`template entry ${source}: its name renders to nothing`, {
      hint: 'check the variables its name uses',
    });
  }
  if (rendered.includes('/') || rendered.includes('\0') || rendered === '.' || rendered === '..') {
    throw new ConfigError(
      `template entry ${source}: its name renders to ${JSON.stringify(rendered)}, which is not a single file name, so it could land outside the staging directory`,
      {
        hint: 'a rendered name cannot hold "/" or a NUL byte, or be "." or "..": make the variable a plain name, and make folders with folders in the template',
      },
    );
  }
  return rendered;
}

/**
 * modelrun keeps a run's record, lock and env files in .modelrun at the top of
 * the staging dir: a template entry there would overwrite them. Compared
 * without case, since on a case-insensitive filesystem (macOS) `.ModelRun`
 * is the same folder.
 */
function refuseBookkeeping(entry: string, name: string): void {
  if (name.toLowerCase() !== BOOKKEEPING) return;
  const renders = entry === name ? '' : ` (its name renders to ${JSON.stringify(name)})`;
  throw new ConfigError(
    `template entry ${entry}${renders} would be staged as ${BOOKKEEPING}, the folder where modelrun keeps the run's record, lock and env files`,
    {
      hint: `rename it in the template folder, or move it into a subfolder; ${BOOKKEEPING} at the top of a staging directory belongs to modelrun`,
    },
  );
}
