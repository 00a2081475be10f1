import { describe, expect, it } from 'vitest';
import { interpolateString } from './interpolate.js';
import { INTERPOLATION_PATTERN } from './interpolation-pattern.js';

const pattern = new RegExp(INTERPOLATION_PATTERN, 'u');

/** Every variable set, so a default is never expanded: what the file itself decides. */
const everySet = new Proxy({}, { get: () => '\u0001' }) as NodeJS.ProcessEnv;

/** What interpolation says of `text`: it fills at least one reference and refuses nothing. */
function interpolates(text: string): boolean {
  const result = interpolateString(text, everySet);
  return result.problems.length === 0 && result.value.includes('\u0001');
}

function* allStrings(alphabet: string[], maxLength: number): Generator<string> {
  let level = [''];
  for (let length = 1; length <= maxLength; length++) {
    level = level.flatMap((prefix) => alphabet.map((c) => prefix + c));
    yield* level;
  }
}

describe('INTERPOLATION_PATTERN', () => {
  it.each([
    ['${NCPU:-4}', true],
    ['${NODE_IMAGE:-node:20-slim}', true],
    ['prefix-${A}-suffix', true],
    ['${A:-${B:-${C}}}', true],
    ['${A:-$${B}}', true],
    ['$${A}', false],
    ['$$${A}', false],
    ['${1}', false],
    ['${A', false],
    ['${A}${', false],
    ['4', false],
    ['$A', false],
  ])('%s: %s', (text, expected) => {
    expect(interpolates(text)).toBe(expected);
    expect(pattern.test(text)).toBe(expected);
  });

  it('accepts exactly the text interpolation fills without a problem', () => {
    let checked = 0;
    for (const text of allStrings(['$', '{', '}', 'A', ':', '-', '1'], 7)) {
      if (pattern.test(text) !== interpolates(text))
        expect.fail(`${JSON.stringify(text)}: pattern ${pattern.test(text)}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(900_000);
  });
});
