import { describe, expect, it } from 'vitest';
import { decodeUtf8, firstInvalidOffset } from './utf8.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('UTF-8', () => {
  it.each([
    ['ASCII', bytes('a: b\n')],
    ['accents and emoji', bytes('name: café 🌊\n')],
    ['U+FFFD written on purpose', bytes('x: \uFFFD\n')],
    ['the largest code point', bytes([0xf4, 0x8f, 0xbf, 0xbf])],
  ])('accepts %s', (_name, input) => {
    expect(firstInvalidOffset(input)).toBe(input.length);
    expect(decodeUtf8(input)).toEqual({ ok: true, text: input.toString('utf8') });
  });

  it('drops a byte order mark', () => {
    expect(decodeUtf8(bytes([0xef, 0xbb, 0xbf], 'a: 1\n'))).toEqual({ ok: true, text: 'a: 1\n' });
  });

  it.each([
    ['a Latin-1 é', bytes('a: caf', [0xe9], '\n'), 6],
    ['a lone continuation byte', bytes('ab', [0x80]), 2],
    ['an overlong NUL', bytes('x', [0xc0, 0x80]), 1],
    ['an overlong three-byte form', bytes([0xe0, 0x80, 0x80]), 0],
    ['a surrogate', bytes('x', [0xed, 0xa0, 0x80]), 1],
    ['a code point past U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 0],
    ['a sequence cut off at the end', bytes('€', [0xe2, 0x82]), 3],
    ['a byte that is never UTF-8', bytes('ok', [0xff]), 2],
    ['an overlong "/"', bytes([0xc0, 0xaf]), 0],
    ['a sequence cut short mid-text', bytes([0xe2, 0x82], 'a'), 0],
  ])('refuses %s at the byte where it starts', (_name, input, offset) => {
    expect(firstInvalidOffset(input)).toBe(offset);
    // Agrees with the strict decoder, so a template is rendered exactly when a config would be read.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(input)).toThrow();
    expect(decodeUtf8(input)).toMatchObject({ ok: false, offset, byte: input[offset] });
  });

  it('says the line and column of the bad byte, counting characters', () => {
    expect(decodeUtf8(bytes('run_id: r1\ncommand: "é ', [0xe9], '"\n'))).toEqual({
      ok: false,
      byte: 0xe9,
      offset: 24,
      line: 2,
      column: 13,
    });
  });

  it('puts a bad first byte at line 1, column 1, however many lines follow', () => {
    expect(decodeUtf8(bytes('', [0xff], 'run_id: r1\ncommand: x\n'))).toEqual({
      ok: false,
      byte: 0xff,
      offset: 0,
      line: 1,
      column: 1,
    });
  });
});
