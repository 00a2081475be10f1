import type { Stats } from 'node:fs';
import { count } from '../plural.js';
import { readWrittenChecksumFile } from './checksum-written.js';
import { type LeftOut, leftOutBecause } from './left-out.js';
import type { SelectedEntry } from './select-files.js';

/** An entry to archive; `content`, when set, is packed in place of the file's bytes. */
export type PackedEntry = SelectedEntry & { content?: Buffer };

/**
 * A checksum file in an archive lists only what the archive holds. The
 * checksum postprocessor lists every file in the run dir that its own globs
 * chose; an archive that packs fewer (`include: ["output/**", "SHA256SUMS"]`)
 * would otherwise carry a list that `sha256sum -c` fails on once extracted.
 * So a checksum file that modelrun wrote is packed with just the lines of
 * the files packed beside it; the one in the run dir stays whole. A
 * checksum file modelrun did not write (the model's own) is packed as it is.
 * One that would list none of them is left out: `sha256sum -c` fails on an
 * empty list. Returns the entries, a note for the summary per file trimmed,
 * and the checksum files left out.
 */
export async function trimChecksumFiles(
  stagingDir: string,
  entries: readonly SelectedEntry[],
): Promise<{ entries: PackedEntry[]; notes: string[]; leftOut: LeftOut[] }> {
  const packed = new Set(
    entries.filter((entry) => entry.target === undefined).map((entry) => entry.path),
  );
  const notes: string[] = [];
  const result: PackedEntry[] = [];
  const leftOut: LeftOut[] = [];
  for (const entry of entries) {
    const text =
      entry.target === undefined
        ? await readWrittenChecksumFile(stagingDir, entry.path)
        : undefined;
    if (text === undefined) {
      result.push(entry);
      continue;
    }
    const lines = text.split(/(?<=\n)/).filter((line) => line !== '');
    const kept = lines.filter((line) => {
      const name = listedName(line);
      return name !== undefined && packed.has(name);
    });
    if (kept.length === lines.length) {
      result.push(entry);
      continue;
    }
    if (kept.length === 0) {
      leftOut.push(
        leftOutBecause(
          entry.path,
          `a checksum file that lists none of the files the archive holds (its ${count(lines.length, 'file')} are not packed)`,
        ),
      );
      continue;
    }
    const content = Buffer.from(kept.join(''));
    result.push({ ...entry, stats: withSize(entry.stats, content.length), content });
    notes.push(
      `${entry.path} packed listing only the ${kept.length} of its ${lines.length} files that the archive holds`,
    );
  }
  return { entries: result, notes, leftOut };
}

/** The file name in one line of GNU sha256sum output, unescaped; undefined if it is not one. */
export function listedName(line: string): string | undefined {
  const match = /^(\\?)[0-9a-f]{64} [ *](.*)$/s.exec(line.replace(/\n$/, ''));
  if (match === null) return undefined;
  const [, escaped, name = ''] = match;
  if (escaped === '') return name;
  return name.replace(/\\(.)/gs, (_whole, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/** The same stats, with another size: a trimmed file's header must give its new length. */
function withSize(stats: Stats, size: number): Stats {
  return Object.assign(Object.create(Object.getPrototypeOf(stats) as object) as Stats, stats, {
    size,
  });
}
