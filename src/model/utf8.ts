/**
 * The offset of the first byte that starts a sequence which is not valid
 * UTF-8 (by the WHATWG decoder's rules: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or undefined when all of it is valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const shape = SEQUENCES.find(([from, to]) => lead >= from && lead <= to);
    if (shape === undefined) return i;
    const [, , length, secondFrom, secondTo] = shape;
    if (i + length > bytes.length) return i;
    const second = bytes[i + 1] ?? 0;
    if (second < secondFrom || second > secondTo) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k] ?? 0;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return undefined;
}

/** Lead byte range, sequence length, and the range its second byte must fall in. */
const SEQUENCES: [number, number, number, number, number][] = [
  [0xc2, 0xdf, 2, 0x80, 0xbf],
  [0xe0, 0xe0, 3, 0xa0, 0xbf],
  [0xe1, 0xec, 3, 0x80, 0xbf],
  [0xed, 0xed, 3, 0x80, 0x9f],
  [0xee, 0xef, 3, 0x80, 0xbf],
  [0xf0, 0xf0, 4, 0x90, 0xbf],
  [0xf1, 0xf3, 4, 0x80, 0xbf],
  [0xf4, 0xf4, 4, 0x80, 0x8f],
];
