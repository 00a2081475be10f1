export type DecodeResult =
  | { ok: true; text: string }
  | { ok: false; byte: number; offset: number; line: number; column: number };

// Fatal, so that a stray Latin-1 byte is refused instead of silently
// becoming U+FFFD in a value; a leading byte order mark is dropped.
const strict = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, or says where the first byte that is not UTF-8 sits. */
export function decodeUtf8(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, text: strict.decode(bytes) };
  } catch {
    const offset = firstInvalidOffset(bytes);
    // At offset 0 there is nothing before: lastIndexOf(…, -1) would search from the end.
    const lineStart = offset === 0 ? 0 : bytes.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
    // Everything before the bad byte is valid, so it decodes; columns count
    // characters, as the other positions in messages do.
    const before = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
    return { ok: false, byte: bytes[offset] ?? 0, offset, line, column: before.length + 1 };
  }
}

/**
 * The offset of the first byte that does not start a well-formed UTF-8
 * sequence (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
 */
export function firstInvalidOffset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    const length = sequenceLength(bytes, i, lead);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

function sequenceLength(bytes: Uint8Array, i: number, lead: number): number {
  if (lead < 0x80) return 1;
  let low = 0x80;
  let high = 0xbf;
  let length: number;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  for (let k = 1; k < length; k++) {
    const next = bytes[i + k];
    if (next === undefined || next < low || next > high) return 0;
    low = 0x80;
    high = 0xbf;
  }
  return length;
}
