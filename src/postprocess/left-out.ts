import { visibleName } from '../exec/visible-name.js';

/** Something the globs chose that a postprocessor did not take, and why. */
export interface LeftOut {
  /** Relative to the run directory, with odd bytes escaped (visibleName). */
  path: string;
  /** "name is not UTF-8", "symlink", "a FIFO, not a regular file". */
  reason: string;
}

export function leftOutBecause(path: string | Buffer, reason: string): LeftOut {
  return { path: visibleName(path), reason };
}

/** At most this many are named in a summary line; run.json has them all, up to DETAILS_LIMIT. */
const SUMMARY_LIMIT = 5;
const DETAILS_LIMIT = 1000;

/** "2: logs/\x80bad.txt (name is not UTF-8), data (symlink)": for a summary line. */
export function describeLeftOut(leftOut: readonly LeftOut[]): string {
  const named = leftOut
    .slice(0, SUMMARY_LIMIT)
    .map((item) => `${item.path} (${item.reason})`)
    .join(', ');
  const more = leftOut.length > SUMMARY_LIMIT ? ` and ${leftOut.length - SUMMARY_LIMIT} more` : '';
  return `left out ${leftOut.length}: ${named}${more}`;
}

/** "; left out 2: ..." after a summary, or nothing when nothing was left out. */
export function leftOutSuffix(leftOut: readonly LeftOut[]): string {
  return leftOut.length === 0 ? '' : `; ${describeLeftOut(leftOut)}`;
}

/** The run.json facts: every item up to a limit, so a million unreadable files stay readable. */
export function leftOutDetails(leftOut: readonly LeftOut[]): Record<string, unknown> {
  if (leftOut.length === 0) return { left_out: [] };
  return {
    left_out: leftOut.slice(0, DETAILS_LIMIT),
    ...(leftOut.length > DETAILS_LIMIT ? { left_out_count: leftOut.length } : {}),
  };
}
