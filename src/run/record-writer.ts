import { type PinnedFolder, pinFolder, shownAt } from '../model/bookkeeping.js';
import { type RunRecord, writeRunRecord } from '../model/run-record.js';
import type { Redactor } from '../secrets.js';

/**
 * Every write of one run's run.json, in order: the run's start, its handle
 * and its queue state while it runs, and its end. A write waits for the one
 * before it, so an update made mid-run can never land after the final record.
 *
 * The run's folder is held open from the first write, and the record is
 * written into that folder wherever it is: a model that moves it (or the
 * folder it is in) takes the record along, and no folder is made anew at
 * its old path, where something else may stand by then. Only a folder that
 * was removed has its record written at its path again.
 */
export class RecordWriter {
  private last: Promise<void> = Promise.resolve();
  private held: Promise<PinnedFolder | undefined> | undefined;

  constructor(
    private readonly record: RunRecord,
    private readonly redactor: Redactor,
  ) {}

  /** Writes the record as it is now; rejects when it could not be written. */
  write(): Promise<void> {
    const written = this.last.then(() => this.writeNow());
    this.last = written.catch(() => undefined);
    return written;
  }

  /**
   * The same while the model runs, where a record that could not be updated
   * must not stop the run: `warn` hears why, and the final write tries again.
   */
  update(warn: (line: string) => void): void {
    this.write().catch((error: Error) =>
      warn(
        `warning: could not update ${this.record.staging_dir}/.modelrun/run.json: ${error.message}`,
      ),
    );
  }

  /** Lets the run's folder go, once the last record is written. */
  async close(): Promise<void> {
    await this.last;
    const held = await this.held;
    this.held = undefined;
    await held?.close();
  }

  private async writeNow(): Promise<void> {
    const dir = this.record.staging_dir;
    // A link or nothing in its place (never the case for a folder modelrun staged): by its path.
    this.held ??= pinFolder(dir, { create: false }).catch(() => undefined);
    const held = await this.held;
    if (held !== undefined && held.path !== held.shown) {
      try {
        // Never made anew under the held path: a removed folder takes no new one, and
        // Node's recursive mkdir would go round for ever between it and its /proc link.
        return await writeRunRecord(held.path, this.record, this.redactor, { parents: false });
      } catch (error) {
        // Removed, with all it held: written at its path again, as modelrun made it there.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw shownAt(error, held);
      }
    }
    await writeRunRecord(dir, this.record, this.redactor);
  }
}
