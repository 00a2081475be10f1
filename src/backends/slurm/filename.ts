import { dirname } from 'node:path';

/** What a batch job's --output and --error patterns can name. */
export interface FilenameValues {
  jobId: string;
  jobName: string;
  /** The submitting user's name. */
  user: string;
  /** The node the batch script runs on; unknown until the job starts. */
  batchHost?: string;
}

/**
 * A path of the host's written into an --output or --error pattern, taken
 * by Slurm as written: its `%` doubled, so that a folder named `50%x` is not
 * read as the job name. A backslash anywhere turns Slurm's expansion off
 * altogether, so then nothing is doubled.
 */
export function literalInPattern(path: string, rest: string): string {
  return path.includes('\\') || rest.includes('\\') ? path : path.replaceAll('%', '%%');
}

/** The folder a pattern's files are written in, where the pattern names it literally (`%%` a `%`). */
export function patternFolder(pattern: string): string {
  const folder = dirname(pattern);
  return pattern.includes('\\') ? folder.replaceAll('\\', '') : folder.replaceAll('%%', '%');
}

/** Slurm's largest zero-padding width (%10j). */
const MAX_WIDTH = 10;

/** Slurm's array index for a job that is not part of an array (NO_VAL - 1). */
const NOT_AN_ARRAY = '4294967294';

/**
 * A batch job's output or error file, from its --output/--error pattern, as
 * Slurm names it: %j %A %J the job id, %a the array index, %x the job name,
 * %u the user, %N the batch node, %n %t 0, %s "batch", %% a percent sign; a
 * width (%5j) zero-pads numbers; a backslash anywhere turns expansion off
 * (and is dropped); other % codes stay as written. Undefined while the
 * pattern names the node and the job has none yet.
 */
export function expandFilename(pattern: string, values: FilenameValues): string | undefined {
  if (pattern.includes('\\')) return pattern.replaceAll('\\', '');
  if (values.batchHost === undefined && /%\d*N/.test(pattern.replaceAll('%%', '')))
    return undefined;
  return pattern.replace(
    /%(%|(\d*)([AaJjNnstux]))/g,
    (_, whole: string, digits = '', code = '') => {
      if (whole === '%') return '%';
      const width = Math.min(Number(digits || 0), MAX_WIDTH);
      const pad = (number: string) => number.padStart(width, '0');
      switch (code) {
        case 'A':
        case 'J':
        case 'j':
          return pad(values.jobId);
        case 'a':
          return pad(NOT_AN_ARRAY);
        case 'n':
        case 't':
          return pad('0');
        case 's':
          return 'batch';
        case 'u':
          return values.user;
        case 'x':
          return values.jobName;
        default:
          return values.batchHost ?? '';
      }
    },
  );
}

/**
 * The names a pattern's final part can expand to, as a regular expression:
 * each % code stands for any text, as expandFilename would fill it in.
 */
export function filenameMatcher(pattern: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (pattern.includes('\\')) return new RegExp(`^${literal(pattern.replaceAll('\\', ''))}$`);
  const parts = pattern.split(/(%%|%\d*[AaJjNnstux])/);
  const source = parts
    .map((part, i) => (i % 2 === 0 ? literal(part) : part === '%%' ? '%' : '.*'))
    .join('');
  return new RegExp(`^${source}$`);
}
