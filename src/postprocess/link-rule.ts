import { posix } from 'node:path';
import { visibleName } from '../visible-name.js';
import { type LeftOut, leftOutBecause } from './left-out.js';
import type { SelectedEntry } from './select-files.js';

/**
 * The one rule for symlinks among the outputs, shared by archive and
 * checksum so that they agree. A link is never followed. One whose target,
 * read from the link's own folder, stays inside the run directory is archived
 * as a link (it means the same once extracted) and is not checksummed
 * (`sha256sum -c` would read its target, which is listed on its own when
 * selected). One that is absolute or climbs out with ".." would point at
 * whatever the extracting machine has there: it is left out of both, and
 * reported. Judged on the target's text, as it reads after extraction: a
 * link through another link that leads out is itself archived, but the
 * other link is not, so after extraction it leads nowhere.
 */
export function linkLeadsOut(path: string, target: string): boolean {
  if (posix.isAbsolute(target)) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  return resolved === '..' || resolved.startsWith('../');
}

/** Why a link that leads out of the run directory is left out. */
export function outsideLink(entry: SelectedEntry): LeftOut {
  const target = visibleName(entry.target ?? '');
  return leftOutBecause(
    entry.path,
    `symlink to ${target}, outside the run directory; never followed`,
  );
}

/** Splits the chosen entries into what the archive takes and the links that lead out. */
export function archivable(entries: readonly SelectedEntry[]): {
  taken: SelectedEntry[];
  leftOut: LeftOut[];
} {
  const taken: SelectedEntry[] = [];
  const leftOut: LeftOut[] = [];
  for (const entry of entries) {
    if (entry.target !== undefined && linkLeadsOut(entry.path, entry.target))
      leftOut.push(outsideLink(entry));
    else taken.push(entry);
  }
  return { taken, leftOut };
}

/** Why the checksum leaves out a link: it leads out, or it is archived as a link. */
export function linkNotChecksummed(entry: SelectedEntry): LeftOut {
  if (linkLeadsOut(entry.path, entry.target ?? '')) return outsideLink(entry);
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
