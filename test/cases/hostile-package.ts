import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostileRun } from '../helpers/hostile.js';
import { mountTmpfs, tmpfsUnavailable, unmount } from '../helpers/mount.js';

/**
 * `modelrun init [DIR]` where it must not write: something in the way of a
 * starter file, a DIR that is no folder, one it cannot write, a name no one
 * meant. Each row ends in exit 2 naming the problem, with nothing written:
 * `keep: ['.']` holds the whole case folder to what setup left.
 */

function refused(args: string[], says: string | RegExp): HostileRun {
  return { args: ['init', ...args], exit: [2], says, keep: ['.'] };
}

/** A read-only tmpfs at `dir`/disk, unmounted after the row. */
function readOnlyDisk(dir: string, args: string[]): HostileRun {
  const disk = join(dir, 'disk');
  const failed = mountTmpfs(disk, 'ro,size=64k');
  if (failed !== undefined) throw new Error(failed);
  return {
    args: ['init', ...args],
    exit: [2],
    says: /cannot write the starter project in .*: the file system is read-only/,
    teardown: () => unmount(disk),
  };
}

export const hostileCases: HostileCase[] = [
  {
    name: 'init over an existing model.yml',
    setup: ({ dir }) => {
      mkdirSync(join(dir, 'proj'));
      writeFileSync(join(dir, 'proj', 'model.yml'), 'run_id: mine\ncommand: "true"\n');
      return refused(['proj'], 'proj/model.yml already exists; modelrun init never overwrites');
    },
  },
  {
    name: 'init with a symlink to an outside file where local.yml goes',
    setup: ({ dir, outside }) => {
      mkdirSync(join(dir, 'proj'));
      symlinkSync(join(outside, 'data.txt'), join(dir, 'proj', 'local.yml'));
      return refused(['proj'], /proj\/local\.yml \(a symlink to .*data\.txt\)/);
    },
  },
  {
    name: 'init with the template folder a symlink to an outside folder',
    setup: ({ dir, outside }) => {
      mkdirSync(join(dir, 'proj'));
      symlinkSync(outside, join(dir, 'proj', 'template'));
      return refused(['proj'], /proj\/template \(a symlink to /);
    },
  },
  {
    name: 'init with a FIFO where README.md goes',
    setup: ({ dir }) => {
      mkdirSync(join(dir, 'proj'));
      execFileSync('mkfifo', [join(dir, 'proj', 'README.md')]);
      return refused(['proj'], 'proj/README.md already exists');
    },
  },
  {
    name: 'init into a DIR that is a broken symlink to a new outside folder',
    setup: ({ dir, outside }) => {
      symlinkSync(join(outside, 'new-project'), join(dir, 'proj'));
      return refused(['proj'], /proj is a symlink to nothing/);
    },
  },
  {
    name: 'init into a DIR that is a file',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'proj'), 'notes\n');
      return refused(['proj'], 'proj is a file, not a folder');
    },
  },
  {
    name: 'init into a DIR below a file',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'proj'), 'notes\n');
      return refused(['proj/sub'], 'proj/sub: a folder on its path is a file');
    },
  },
  {
    name: 'init into a new DIR on a read-only file system',
    skip: tmpfsUnavailable,
    setup: ({ dir }) => readOnlyDisk(dir, ['disk/proj']),
  },
  {
    name: 'init into an existing read-only DIR',
    skip: tmpfsUnavailable,
    setup: ({ dir }) => readOnlyDisk(dir, ['disk']),
  },
  {
    name: 'init with terminal escapes in DIR',
    setup: () => refused(['p\x1b]0;owned\x07\x1b[2J'], /p\\x1b\]0;owned\\x07\\x1b\[2J has control/),
  },
  {
    name: 'init with a newline in DIR',
    setup: () => refused(['proj\nrm -rf ~'], 'proj\\x0arm -rf ~ has control characters'),
  },
  {
    name: 'init with an empty DIR',
    setup: () => refused([''], 'the project folder is empty'),
  },
];
