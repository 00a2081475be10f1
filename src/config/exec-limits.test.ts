import { describe, expect, it } from 'vitest';
import {
  ARG_MAX_BUDGET,
  commandTooLarge,
  envBytes,
  envEntryTooLarge,
  execTooLarge,
  MAX_ARG_STRLEN,
} from './exec-limits.js';

describe('what a program may start with', () => {
  it.each([
    ['a command that fills one argument, its NUL included', MAX_ARG_STRLEN - 1, undefined],
    ['a command one byte over', MAX_ARG_STRLEN, /^is 131073 bytes, over the 131072 bytes/],
  ])('%s', (_name, length, expected) => {
    const problem = commandTooLarge('x'.repeat(length));
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('counts a variable as NAME=value and its NUL, in UTF-8 bytes', () => {
    expect(envEntryTooLarge('A', 'x'.repeat(MAX_ARG_STRLEN - 3))).toBeUndefined();
    expect(envEntryTooLarge('A', 'x'.repeat(MAX_ARG_STRLEN - 2))).toMatch(/^A=… is 131073 bytes/);
    // 'é' is two bytes: 65536 of them are 131072 bytes, over the limit with "A=" and the NUL.
    expect(envEntryTooLarge('A', 'é'.repeat(65_536))).toMatch(/is 131075 bytes/);
  });

  it('sums variables with their pointers against the ARG_MAX budget', () => {
    expect(envBytes({ A: 'b' })).toBe('A=b'.length + 1 + 8);
    const value = 'x'.repeat(100_000);
    const fits = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`V${String(i).padStart(2, '0')}`, value]),
    );
    expect(envBytes(fits)).toBeLessThan(ARG_MAX_BUDGET);
    expect(execTooLarge(fits)).toBeUndefined();
    const over = { ...fits, V20: value, V21: value };
    expect(execTooLarge(over)).toMatch(
      /^env_vars take 2200286 bytes together, over the 2031616 bytes \(2 MiB, ARG_MAX, less 64 KiB/,
    );
  });
});
