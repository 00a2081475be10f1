import type { Dirent } from 'node:fs';
import type { GlobOptions } from 'tinyglobby';

/** What the crawler under tinyglobby (fdir) reads of a folder entry: its name and kind. */
export type CrawledEntry = Pick<Dirent, 'name' | 'isDirectory' | 'isFile' | 'isSymbolicLink'>;

/** fs.readdir as the crawler calls it: with file types, and a callback. */
export type CrawlerReaddir = (
  path: string,
  options: { withFileTypes: true },
  callback: (error: NodeJS.ErrnoException | null, entries: CrawledEntry[]) => void,
) => void;

type GlobFs = NonNullable<GlobOptions['fs']>;

/**
 * tinyglobby's `fs` option with `readdir` in place of the real one. fdir
 * declares that option as the whole of fs.readdir, every overload, though
 * it makes only the one call above and reads only what CrawledEntry holds:
 * this is the one place that says so.
 */
export function crawlerFs(readdir: CrawlerReaddir): GlobFs {
  return { readdir: readdir as GlobFs['readdir'] };
}
