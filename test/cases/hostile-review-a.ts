import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';
import { ARCHIVE, CHECKSUM, row } from './hostile-archive.js';

/** Inputs a hostile review found, each pinned by a row. */
export const hostileCases: HostileCase[] = [
  row(
    'archive: a link through a link to "." that climbs out once extracted, and a chain to /etc',
    ARCHIVE,
    (run) => {
      symlinkSync('.', join(run, 'b'));
      symlinkSync('b/../secret-outside', join(run, 'esc'));
      symlinkSync('/etc/passwd', join(run, 'lnkabs'));
      symlinkSync('lnkabs', join(run, 'lnkchain'));
    },
    {
      exit: [0],
      says: /esc \(symlink to b\/\.\.\/secret-outside, through the symlink b, .*lnkchain \(symlink to lnkabs, to the symlink lnkabs, which leads out/,
    },
  ),
  row(
    'checksum: a link through a link to "."',
    CHECKSUM,
    (run) => {
      symlinkSync('.', join(run, 'b'));
      symlinkSync('b/../secret-outside', join(run, 'esc'));
    },
    { exit: [0], says: /esc \(symlink to b\/\.\.\/secret-outside, through the symlink b,/ },
  ),
];
