import { fstatSync } from 'node:fs';

type Echo = NodeJS.WritableStream & { isTTY?: boolean; fd?: unknown };

/** The fields of an fstat that name one open file: its device and inode, and for a tty its device number. */
export type FileIdentity = { dev: number; ino: number; rdev: number };

/**
 * Whether two echo targets are the same terminal, so that the model's two
 * streams would be mixed on one screen and need a label to be told apart.
 * Anything else (a file, a pipe, two different terminals) gets the model's
 * bytes unchanged: `> out.txt 2> err.txt` must hold exactly what the model
 * wrote. The identity of a tty is its device number, and of other files the
 * device and inode, so all three are compared.
 */
export function sameTerminal(
  a: Echo,
  b: Echo,
  identify: (fd: number) => FileIdentity = fstatSync,
): boolean {
  if (a.isTTY !== true || b.isTTY !== true) return false;
  if (a === b) return true;
  if (typeof a.fd !== 'number' || typeof b.fd !== 'number') return false;
  try {
    const [x, y] = [identify(a.fd), identify(b.fd)];
    return x.dev === y.dev && x.ino === y.ino && x.rdev === y.rdev;
  } catch {
    // A descriptor that cannot be inspected is not known to be shared.
    return false;
  }
}
