/** "1 file", "3 files", "0 files": a count and its noun, in the number it takes. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
