import { distance } from 'fastest-levenshtein';

/** The known word closest to `word`, if it is close enough to be a likely typo. */
export function closestMatch(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
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

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const match = closestMatch(key, known);
  return match === undefined
    ? `unknown key "${key}"; allowed keys are ${known.join(', ')}`
    : `unknown key "${key}"; did you mean "${match}"?`;
}
