/*
 * Names as a person can read them, whatever bytes they hold: file names
 * reach modelrun as bytes, and need not be UTF-8.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `bytes` as runs of valid UTF-8 text and single bytes that are not part of
 * any valid character.
 */
export function decodeLoosely(bytes: Buffer): (string | number)[] {
  const parts: (string | number)[] = [];
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    const length =
      lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    const char = length === 0 ? undefined : decodeOne(bytes.subarray(i, i + length), length);
    if (char === undefined) {
      if (text !== '') parts.push(text);
      text = '';
      parts.push(lead);
      i += 1;
    } else {
      text += char;
      i += length;
    }
  }
  if (text !== '') parts.push(text);
  return parts;
}

function decodeOne(bytes: Buffer, length: number): string | undefined {
  if (bytes.length < length) return undefined;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Characters that would hide or disguise a name on a terminal: control
 * characters, line and paragraph separators, and the invisible format
 * characters (Unicode Cf: the bidi overrides such as U+202E, which turn the
 * rest of a line around, zero-width spaces, the byte-order mark).
 */
export const hiddenCharacters = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

const hiddenOrBackslash = /[\\\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * A name as a person can read it and paste it back: a byte that is not UTF-8
 * and a control character become \xNN, a separator or format character
 * \uNNNN (\u{NNNNN} past U+FFFF), and a backslash \\, so that no name can
 * pass for another or move the cursor.
 */
export function visibleName(name: string | Buffer): string {
  const parts = typeof name === 'string' ? [name] : decodeLoosely(name);
  return parts
    .map((part) =>
      typeof part === 'number'
        ? `\\x${hex2(part)}`
        : part.replace(hiddenOrBackslash, (c) => {
            if (c === '\\') return '\\\\';
            const code = c.codePointAt(0) as number;
            if (code <= 0xff) return `\\x${hex2(code)}`;
            return code > 0xffff
              ? `\\u{${code.toString(16)}}`
              : `\\u${code.toString(16).padStart(4, '0')}`;
          }),
    )
    .join('');
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
