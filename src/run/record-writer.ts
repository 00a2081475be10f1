import { type RunRecord, writeRunRecord } from '../model/run-record.js';
import type { Redactor } from '../secrets.js';

/**
 * Every write of one run's run.json, in order: the run's start, its handle
 * and its queue state while it runs, and its end. A write waits for the one
 * before it, so an update made mid-run can never land after the final record.
 */
export class RecordWriter {
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly record: RunRecord,
    private readonly redactor: Redactor,
  ) {}

  /** Writes the record as it is now; rejects when it could not be written. */
  write(): Promise<void> {
    const written = this.last.then(() =>
      writeRunRecord(this.record.staging_dir, this.record, this.redactor),
    );
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
}
