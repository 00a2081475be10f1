import { describe, expect, it } from 'vitest';
import { count } from './plural.js';

describe('count', () => {
  it.each([
    [0, 'file', undefined, '0 files'],
    [1, 'file', undefined, '1 file'],
    [2, 'line', undefined, '2 lines'],
    [1, 'entry', 'entries', '1 entry'],
    [5, 'entry', 'entries', '5 entries'],
  ])('%i %s', (n, singular, plural, expected) => {
    expect(count(n, singular, plural)).toBe(expected);
  });
});
