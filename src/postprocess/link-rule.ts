import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { visibleName } from '../exec/visible-name.js';
import { type LeftOut, leftOutBecause } from './left-out.js';
import { fsPath } from './name-spelling.js';
import type { SelectedEntry } from './select-files.js';

const LOOP = 'to a loop of symlinks';

/**
 * The one rule for symlinks among the outputs, shared by archive and
 * checksum so that they agree. A link is never followed. It is archived as a
 * link (and not checksummed: `sha256sum -c` would read its target, which is
 * listed on its own when selected) only when it means the same once
 * extracted: its target, read from the link's own folder, stays inside the
 * run directory, goes through no symlink on the way (each part of it that
 * exists in the run directory is a real folder, since the system follows a
 * link in the middle of a path before any ".."), and, when it names another
 * link, that link obeys the same rule. Any other link would point at
 * whatever the extracting machine has there: it is left out of both, and
 * reported. Returns why a link leads out, or undefined when it stays inside.
 */
export async function linkLeadsOut(
  stagingDir: string,
  path: string,
  target: string,
  seen: ReadonlySet<string> = new Set([path]),
): Promise<string | undefined> {
  if (posix.isAbsolute(target)) return 'outside the run directory';
  const folder = posix.dirname(path);
  const reached = folder === '.' ? [] : folder.split('/');
  const parts = target.split('/').filter((part) => part !== '' && part !== '.');
  for (const [index, part] of parts.entries()) {
    if (part === '..') {
      if (reached.pop() === undefined) return 'outside the run directory';
      continue;
    }
    reached.push(part);
    const relative = reached.join('/');
    const stats = await lstat(fsPath(stagingDir, relative)).catch(() => undefined);
    // Missing, or a file: extraction cannot follow it anywhere either.
    if (stats === undefined || !stats.isSymbolicLink()) continue;
    const shown = visibleName(relative);
    if (index < parts.length - 1)
      return `through the symlink ${shown}, so it could lead anywhere once extracted`;
    if (seen.has(relative)) return `${LOOP} through ${shown}`;
    const next = await readlink(fsPath(stagingDir, relative), 'utf8').catch(() => undefined);
    if (next === undefined) return `to the symlink ${shown}, which cannot be read`;
    const further = await linkLeadsOut(stagingDir, relative, next, new Set([...seen, relative]));
    if (further === undefined || further.startsWith(LOOP)) return further;
    return `to the symlink ${shown}, which leads out`;
  }
  return undefined;
}

/** Why a link that leads out of the run directory is left out. */
export function outsideLink(entry: SelectedEntry, why: string): LeftOut {
  const target = visibleName(entry.target ?? '');
  return leftOutBecause(entry.path, `symlink to ${target}, ${why}; never followed`);
}

/** Splits the chosen entries into what the archive takes and the links that lead out. */
export async function archivable(
  stagingDir: string,
  entries: readonly SelectedEntry[],
): Promise<{ taken: SelectedEntry[]; leftOut: LeftOut[] }> {
  const taken: SelectedEntry[] = [];
  const leftOut: LeftOut[] = [];
  for (const entry of entries) {
    const why =
      entry.target === undefined
        ? undefined
        : await linkLeadsOut(stagingDir, entry.path, entry.target);
    if (why !== undefined) leftOut.push(outsideLink(entry, why));
    else taken.push(entry);
  }
  return { taken, leftOut };
}

/** Why the checksum leaves out a link: it leads out, or it is archived as a link. */
export async function linkNotChecksummed(
  stagingDir: string,
  entry: SelectedEntry,
): Promise<LeftOut> {
  const why = await linkLeadsOut(stagingDir, entry.path, entry.target ?? '');
  if (why !== undefined) return outsideLink(entry, why);
  return leftOutBecause(
    entry.path,
    `symlink to ${visibleName(entry.target ?? '')}; archived as a link, not checksummed`,
  );
}

/** "output/a, output/b" of the links an archive kept, at most five named. */
export function describeLinks(entries: readonly SelectedEntry[]): string {
  const links = entries.filter((entry) => entry.target !== undefined);
  if (links.length === 0) return '';
  const named = links
    .slice(0, 5)
    .map((entry) => `${visibleName(entry.path)} → ${visibleName(entry.target ?? '')}`)
    .join(', ');
  const more = links.length > 5 ? ` and ${links.length - 5} more` : '';
  return `, ${links.length} symlink${links.length === 1 ? '' : 's'} kept as links (${named}${more})`;
}
