import { describe, expect, it } from 'vitest';
import { type FileIdentity, sameTerminal } from './same-terminal.js';

const tty = (fd: number) => ({ isTTY: true, fd }) as never;
const file = (fd: number) => ({ fd }) as never;

/** fstat as a table: fd → identity. */
const identities =
  (table: Record<number, FileIdentity>) =>
  (fd: number): FileIdentity => {
    const found = table[fd];
    if (found === undefined) throw new Error('EBADF');
    return found;
  };

const pts3 = { dev: 24, ino: 6, rdev: 34819 };
const pts4 = { dev: 24, ino: 7, rdev: 34820 };

describe('sameTerminal', () => {
  it.each([
    ['both fds on one terminal', tty(1), tty(2), { 1: pts3, 2: pts3 }, true],
    ['two different terminals', tty(1), tty(2), { 1: pts3, 2: pts4 }, false],
    ['stdout redirected to a file', file(1), tty(2), { 1: pts3, 2: pts3 }, false],
    ['stderr redirected to a file', tty(1), file(2), { 1: pts3, 2: pts3 }, false],
    ['both redirected', file(1), file(2), { 1: pts3, 2: pts3 }, false],
    ['an fd that cannot be inspected', tty(1), tty(2), { 1: pts3 }, false],
  ])('%s → %s', (_name, a, b, table, expected) => {
    expect(sameTerminal(a, b, identities(table))).toBe(expected);
  });

  it('takes one terminal stream given twice (--json sends both to stderr) as shared', () => {
    const stderr = tty(2);
    expect(sameTerminal(stderr, stderr, identities({}))).toBe(true);
  });

  it('never labels streams without a file descriptor (in-process writers)', () => {
    const writer = { isTTY: true } as never;
    expect(sameTerminal(writer, { isTTY: true } as never, identities({}))).toBe(false);
  });
});
