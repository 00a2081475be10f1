import { describe, expect, it } from 'vitest';
import { listedName } from './archive-checksums.js';
import { checksumLine } from './checksum.js';

const HEX = 'a'.repeat(64);

describe('listedName', () => {
  it.each([['output/a.nc'], ['two  spaces.txt'], ['back\\slash'], ['new\nline'], ['cr\r']])(
    'reads back the name %j from the line checksum writes',
    (name) => {
      expect(listedName(checksumLine(HEX, name))).toBe(name);
    },
  );

  it.each([['not a line\n'], [`${'a'.repeat(63)}  short\n`]])('takes %j for no line', (line) => {
    expect(listedName(line)).toBeUndefined();
  });
});
