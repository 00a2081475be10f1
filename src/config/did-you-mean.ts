import { distance } from 'fastest-levenshtein';

/** The known word closest to `word`, if it is close enough to be a likely typo. */
export function closestMatch(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of known) {
    const d = typoDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // About one edit per three characters, and at least two for longer words
  // so that a swapped pair (`depht`) is found: `timout` finds `timeout`,
  // `cpus` finds `cpu`, but `colour` does not become `cpu`.
  const allowed = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * Edits between two words, where two neighbouring letters swapped (`rnu`)
 * count as one edit, as in commander's own "Did you mean" for commands.
 */
function typoDistance(a: string, b: string): number {
  const d = distance(a, b);
  if (d !== 2 || a.length !== b.length) return d;
  const at = [...a].findIndex((char, i) => char !== b[i]);
  const swapped = a.slice(0, at) + (a[at + 1] ?? '') + (a[at] ?? '') + a.slice(at + 2);
  return swapped === b ? 1 : d;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const match = closestMatch(key, known);
  return match === undefined
    ? `unknown key "${key}"; allowed keys are ${known.join(', ')}`
    : `unknown key "${key}"; did you mean "${match}"?`;
}
