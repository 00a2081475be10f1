import { join } from 'node:path';
import { decodeLoosely } from '../exec/visible-name.js';

/*
 * How the glob crawl sees names it could not otherwise match.
 *
 * picomatch, which tinyglobby matches with, builds its regexes from `.`, which
 * matches no line terminator: a file named "a\nb" would never be selected,
 * whatever the globs. And a name that is not UTF-8 reaches JavaScript with
 * U+FFFD in place of its bad bytes, a name no file has. So the crawl sees each
 * line terminator spelled as two ordinary characters and each bad byte as
 * four, and the results are spelled back: to a string, or to the exact bytes
 * (a Buffer, which every fs call takes) when the name is not UTF-8. The
 * private-use ESCAPE character is itself spelled, so no real name is mistaken
 * for one.
 */
const ESCAPE = '\uE000';
const SPELLINGS: Record<string, string> = {
  [ESCAPE]: '0',
  '\n': 'n',
  '\r': 'r',
  '\u2028': 'l',
  '\u2029': 'p',
};
const UNSPELLINGS = Object.fromEntries(Object.entries(SPELLINGS).map(([c, code]) => [code, c]));

/** One name from readdir, as the crawl sees it. */
export function spellName(name: Buffer): string {
  return decodeLoosely(name)
    .map((part) =>
      typeof part === 'number'
        ? `${ESCAPE}x${part.toString(16).padStart(2, '0')}`
        : part.replace(/[\uE000\n\r\u2028\u2029]/g, (c) => `${ESCAPE}${SPELLINGS[c]}`),
    )
    .join('');
}

/** A crawled path spelled back: a string, or the exact bytes when a name in it is not UTF-8. */
export function unspell(path: string): string | Buffer {
  const pieces: (string | Buffer)[] = [];
  let raw = false;
  let last = 0;
  for (const match of path.matchAll(/\uE000(?:x([0-9a-f]{2})|([0nrlp]))/g)) {
    pieces.push(path.slice(last, match.index));
    const [, hex, code] = match;
    if (hex !== undefined) {
      raw = true;
      pieces.push(Buffer.from([Number.parseInt(hex, 16)]));
    } else pieces.push(UNSPELLINGS[code as string] ?? '');
    last = match.index + match[0].length;
  }
  pieces.push(path.slice(last));
  if (!raw) return pieces.join('');
  return Buffer.concat(
    pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
  );
}

/** `relative` under `root`, as a path fs calls take: bytes stay bytes. */
export function fsPath(root: string, relative: string | Buffer): string | Buffer {
  if (typeof relative === 'string') return relative === '' ? root : join(root, relative);
  return Buffer.concat([Buffer.from(root.endsWith('/') ? root : `${root}/`), relative]);
}
