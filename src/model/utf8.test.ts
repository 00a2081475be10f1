import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from './utf8.js';

const fatal = new TextDecoder('utf-8', { fatal: true });
const valid = (bytes: Uint8Array) => {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

describe('firstInvalidUtf8', () => {
  it.each([
    ['ASCII', [0x61, 0x62], undefined],
    ['two-byte é', [0x61, 0xc3, 0xa9], undefined],
    ['a four-byte emoji', [0xf0, 0x9f, 0x8c, 0x8a], undefined],
    ['Latin-1 é', [0x61, 0x62, 0xe9, 0x20], 2],
    ['a lone continuation byte', [0x80], 0],
    ['an overlong "/"', [0xc0, 0xaf], 0],
    ['an overlong three-byte form', [0xe0, 0x80, 0xaf], 0],
    ['a surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a sequence cut short at the end', [0x61, 0xe2, 0x82], 1],
    ['a sequence cut short mid-text', [0xe2, 0x82, 0x61], 0],
  ])('%s', (_name, bytes, offset) => {
    const array = Uint8Array.from(bytes);
    expect(firstInvalidUtf8(array)).toBe(offset);
    // Agrees with the decoder that decides whether a file is rendered.
    expect(valid(array)).toBe(offset === undefined);
  });
});
