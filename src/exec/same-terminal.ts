import { fstatSync, statSync } from 'node:fs';

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
  return a.isTTY === true && b.isTTY === true && sameTarget(a, b, identify);
}

/**
 * Whether two echo targets are one open file, terminal or not (`> all.log
 * 2>&1`): what is written to them is then mixed in the order it is written.
 */
export function sameTarget(
  a: Echo,
  b: Echo,
  identify: (fd: number) => FileIdentity = fstatSync,
): boolean {
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

/** Whether an echo target is /dev/null, where an echo is work for nothing. */
export function isDevNull(target: Echo): boolean {
  if (typeof target.fd !== 'number') return false;
  try {
    const stats = fstatSync(target.fd);
    return stats.isCharacterDevice() && stats.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}
