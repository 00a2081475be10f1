import { visibleName } from '../../exec/visible-name.js';

/*
 * Text that becomes part of the batch script. sbatch reads its options from
 * the #SBATCH lines up to the first line that is not a comment, so a value
 * that ends a line would end the options and run the rest as a command; a
 * value that holds a space or a `#` would be split or cut short unless
 * quoted. Values are refused when they hold a character that can end a line
 * or fool whoever reads the script, and quoted when they are written.
 */

/** C0 controls (tab, line feed, carriage return...), DEL, C1 controls (NEL), and the Unicode line and paragraph separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The same rule as a whole-value pattern, for zod and the JSON Schema. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
export const SCRIPT_SAFE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

const NAMES: Record<string, string> = {
  '\0': 'a NUL',
  '\t': 'a tab',
  '\n': 'a line feed',
  '\r': 'a carriage return',
  '\u007f': 'a DEL',
  '\u0085': 'a next-line character (NEL)',
  '\u2028': 'a line separator',
  '\u2029': 'a paragraph separator',
};

/**
 * Why `value` cannot go into the batch script, naming the character and
 * where it is, as a person can see it; undefined when it can.
 */
export function scriptTextProblem(value: string): string | undefined {
  const match = UNSAFE.exec(value);
  if (match === null) return undefined;
  const char = match[0];
  const name = NAMES[char] ?? 'a control character';
  return `cannot hold ${name} (${visibleName(char)}), which would end or split a line of the batch script; "${visibleName(value)}" has one at character ${match.index + 1}`;
}

/**
 * A value as sbatch reads it back from an #SBATCH line: in double quotes,
 * with `\` and `"` escaped by a backslash. sbatch (22.05 and later) groups a
 * quoted word, spaces and `#` included, and drops the backslashes. No quoting
 * can carry a line break, which sbatch never reads as part of a value:
 * scriptTextProblem refuses those first.
 */
export function sbatchQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}
