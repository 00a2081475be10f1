import { readdirSync, readFileSync, statSync } from 'node:fs';
import { presence } from '../exec/process-identity.js';
import type { EnsembleRecord } from '../model/ensemble-record.js';

/**
 * Whether the ensemble a folder's record names still runs, as `status`,
 * `wait` and `cancel` of that folder see it.
 */

/** An ensemble's folder with its record; `own` is false when the record is another folder's. */
export interface FoundEnsemble {
  dir: string;
  record: EnsembleRecord;
  /**
   * Whether the record's `dir` is this folder (by real path). A copy of the
   * folder (`cp -a`), or one moved since, holds the record of an ensemble
   * whose modelrun runs another folder: nothing here is its to stop.
   */
  own: boolean;
}

export type Liveness = 'running' | 'gone' | 'elsewhere' | 'ended' | 'another-folder';

/**
 * Whether the modelrun that runs it is still there: on this host, by its
 * whole identity, and a `modelrun ensemble` by its command line. A model
 * can write ensemble.json; it cannot make another program's command line
 * read as modelrun's, so a forged owner is never signalled. A record that
 * is another folder's runs nothing here, whatever its owner does.
 */
export function liveness({ dir, record, own }: FoundEnsemble): Liveness {
  if (record.status !== 'running') return 'ended';
  if (!own) return 'another-folder';
  if (record.owner === undefined) return 'gone';
  const where = presence(record.owner);
  if (where !== 'alive') return where;
  // Another ensemble's modelrun, named by a record a model rewrote, does not hold this folder.
  return isModelrunEnsemble(record.owner.pid) && holdsFolder(record.owner.pid, dir) !== false
    ? 'running'
    : 'gone';
}

/**
 * Whether the process holds the folder open, as the modelrun that runs an
 * ensemble holds its folder for as long as it runs (by device and inode);
 * undefined when its open files cannot be read (another user's).
 */
function holdsFolder(pid: number, dir: string): boolean | undefined {
  let folder: { dev: number; ino: number };
  let fds: string[];
  try {
    folder = statSync(dir);
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  return fds.some((fd) => {
    try {
      const open = statSync(`/proc/${pid}/fd/${fd}`);
      return open.isDirectory() && open.dev === folder.dev && open.ino === folder.ino;
    } catch {
      return false;
    }
  });
}

function isModelrunEnsemble(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((arg) => /modelrun(\.js)?$/.test(arg)) && argv.includes('ensemble');
  } catch {
    return false;
  }
}
