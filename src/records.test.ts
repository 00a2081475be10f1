import { describe, expect, it } from 'vitest';
import { isRecord } from './records.js';

describe('isRecord', () => {
  it.each([
    [{}, true],
    [{ type: 'docker' }, true],
    [Object.create(null), true],
    [[], false],
    [null, false],
    [undefined, false],
    ['type: docker', false],
    [42, false],
  ])('%o is a record: %s', (value, expected) => {
    expect(isRecord(value)).toBe(expected);
  });
});
