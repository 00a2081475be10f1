import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { readOwnFile, replaceFile } from '../exec/link-safe.js';
import { inBookkeepingFolder } from '../model/bookkeeping.js';
import { isRecord } from '../records.js';
import { MODELRUN_FOLDER } from './select-files.js';

/**
 * Which checksum files in a run directory modelrun wrote: their paths and
 * the SHA-256 of what it wrote, in `.modelrun/checksum-files.json`. The
 * checksum file itself stays exactly what `sha256sum -c` reads, with no
 * mark of ours in it. Like an archive destination (archive-destination.ts),
 * an existing file is replaced only when it is one of these, unchanged
 * since: a model's own SHA256SUMS, or any output of the same name, is kept.
 */
const WRITTEN_PATH = join(MODELRUN_FOLDER, 'checksum-files.json');

type Written = Record<string, string>;

async function readWritten(stagingDir: string): Promise<Written> {
  const text = await readOwnFile(join(stagingDir, WRITTEN_PATH)).catch(() => undefined);
  try {
    const value: unknown = JSON.parse(text ?? '{}');
    return isRecord(value) ? (value as Written) : {};
  } catch {
    return {};
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Whether the file at `output` holds what modelrun last wrote there. */
export async function isWrittenChecksumFile(stagingDir: string, output: string): Promise<boolean> {
  return (await readWrittenChecksumFile(stagingDir, output)) !== undefined;
}

/** The text of the file at `output` if it is what modelrun last wrote there, else undefined. */
export async function readWrittenChecksumFile(
  stagingDir: string,
  output: string,
): Promise<string | undefined> {
  const recorded = (await readWritten(stagingDir))[output];
  if (recorded === undefined) return undefined;
  const text = await readOwnFile(join(stagingDir, output)).catch(() => undefined);
  return text !== undefined && digest(text) === recorded ? text : undefined;
}

/** Notes that modelrun wrote `text` at `output`, so that a later run may replace it. */
export async function noteChecksumFile(
  stagingDir: string,
  output: string,
  text: string,
): Promise<void> {
  const written = await readWritten(stagingDir);
  written[output] = digest(text);
  await inBookkeepingFolder(stagingDir, (folder) =>
    replaceFile(join(folder, basename(WRITTEN_PATH)), `${JSON.stringify(written, null, 2)}\n`),
  );
}
