import { readlink, realpath, stat } from 'node:fs/promises';
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
 * its old path, where something else may stand by then. A folder that was
 * removed is not made again: its record is lost with it (`lost` says so).
 */
export class RecordWriter {
  private last: Promise<void> = Promise.resolve();
  private held: Promise<PinnedFolder | undefined> | undefined;
  /** Set once the run's folder was found removed: why its record could not be kept. */
  lost: string | undefined;

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
  update(warn: (line: string) => void): Promise<void> {
    return this.write().catch((error: Error) =>
      warn(
        `warning: could not update ${this.record.staging_dir}/.modelrun/run.json: ${error.message}`,
      ),
    );
  }

  /** Where the run's folder is now, when it is no longer where it was held. */
  async movedTo(): Promise<string | undefined> {
    const held = await this.held;
    if (held === undefined || held.path === held.shown) return undefined;
    const now = await readlink(held.path).catch(() => undefined);
    // A removed folder reads "… (deleted)": it is nowhere.
    return now === undefined || now === held.shown || now.endsWith(' (deleted)') ? undefined : now;
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
    // By its real path: the staging dir may be reached through a link of the
    // user's (an output_dir that is one), and the folder is the one it leads to now.
    this.held ??= realpath(dir)
      .then((real) => pinFolder(real, { create: false }))
      .catch(() => undefined);
    const held = await this.held;
    // Nothing to hold (no /proc): by its path, checked as it goes.
    if (held === undefined || held.path === held.shown)
      return writeRunRecord(dir, this.record, this.redactor);
    try {
      // Never made anew under the held path: a removed folder takes no new one, and
      // Node's recursive mkdir would go round for ever between it and its /proc link.
      await writeRunRecord(held.path, this.record, this.redactor, { parents: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw shownAt(error, held);
      // Removed, with all it held: not made again at its path, where by now
      // a link or a folder of someone else's may stand. The run ends failed, saying so.
      this.lost = `the run's folder ${dir} was removed during the run, and its record with it; modelrun does not make it again, as something else may stand at its path now`;
    }
  }

  /**
   * Why the run's path no longer leads to its folder (moved, removed or
   * replaced by a link during the run), or undefined while it does: what
   * works by path (postprocessors, --cleanup-on-failure) would reach another folder.
   */
  async displaced(): Promise<string | undefined> {
    if (this.lost !== undefined) return this.lost;
    const held = await this.held;
    if (held === undefined || held.path === held.shown) return undefined;
    const dir = this.record.staging_dir;
    const [there, own] = await Promise.all([
      stat(dir).catch(() => undefined),
      stat(held.path).catch(() => undefined),
    ]);
    if (there !== undefined && own !== undefined && there.dev === own.dev && there.ino === own.ino)
      return undefined;
    const now = await this.movedTo();
    return `${dir} no longer leads to the folder the model ran in: it was moved, removed or replaced by a link during the run${now === undefined ? '' : ` (that folder is now ${now})`}`;
  }
}
