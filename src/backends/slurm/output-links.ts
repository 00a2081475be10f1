import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RunFailedError } from '../../errors.js';
import { filenameMatcher, patternFolder } from './filename.js';

/**
 * Slurm opens a job's output and error files itself, on the node, and
 * follows a symlink it finds there: a link left where they go (staged by a
 * template, or made by an earlier job) would send the job's output over a
 * file somewhere else. modelrun refuses to submit while one is there.
 */
export async function refuseOutputLinks(pattern: string, field: string): Promise<void> {
  const folder = patternFolder(pattern);
  const matches = filenameMatcher(basename(pattern));
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (!entry.isSymbolicLink() || !matches.test(entry.name)) continue;
    throw new RunFailedError(
      `${join(folder, entry.name)} is a symlink where Slurm writes the job's ${field === 'output_file' ? 'output' : 'errors'}; Slurm would write through it`,
      { hint: `remove the link, or set ${field} to another place` },
    );
  }
}
