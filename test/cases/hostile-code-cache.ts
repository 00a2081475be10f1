import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * A TMPDIR where modelrun's code cache (src/cli/code-cache.ts) must not go:
 * relative, so that it would land in the working directory; a link to
 * somewhere else; a folder others can write; a FIFO. Each row runs `--help`,
 * which must work as ever, with nothing written: the case folder is held to
 * what setup left (`keep: ['.']`), and `outside` is watched by the table.
 */
const uid = process.getuid?.() ?? 0;
const help = (env: Record<string, string>) => ({
  args: ['--help'],
  env,
  exit: [0],
  says: 'Usage: modelrun',
  keep: ['.'],
});

export const hostileCases: HostileCase[] = [
  {
    name: 'a relative TMPDIR, which would put the code cache in the working directory',
    setup: ({ dir }) => {
      mkdirSync(join(dir, 'tmp'));
      return help({ TMPDIR: 'tmp' });
    },
  },
  {
    name: "a code cache folder that is a link to someone else's folder",
    setup: ({ dir, outside }) => {
      mkdirSync(join(dir, 'tmp'));
      mkdirSync(join(outside, 'cache'), { mode: 0o700 });
      symlinkSync(join(outside, 'cache'), join(dir, 'tmp', `modelrun-code-cache-${uid}`));
      return help({ TMPDIR: join(dir, 'tmp') });
    },
  },
  {
    name: 'a code cache folder that anyone can write',
    setup: ({ dir }) => {
      mkdirSync(join(dir, 'tmp', `modelrun-code-cache-${uid}`), { recursive: true });
      chmodSync(join(dir, 'tmp', `modelrun-code-cache-${uid}`), 0o777);
      return help({ TMPDIR: join(dir, 'tmp') });
    },
  },
  {
    name: 'a TMPDIR that is a FIFO',
    setup: ({ dir }) => {
      execFileSync('mkfifo', [join(dir, 'fifo')]);
      return help({ TMPDIR: join(dir, 'fifo') });
    },
  },
];
