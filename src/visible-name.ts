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
 * A name as a person can read it and paste it back: a byte that is not UTF-8
 * and a control character become \xNN, a line or paragraph separator \uNNNN,
 * and a backslash \\, so that no name can pass for another or move the cursor.
 */
export function visibleName(name: string | Buffer): string {
  const parts = typeof name === 'string' ? [name] : decodeLoosely(name);
  return parts
    .map((part) =>
      typeof part === 'number'
        ? `\\x${hex2(part)}`
        : // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes.
          part.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
            if (c === '\\') return '\\\\';
            const code = c.charCodeAt(0);
            return code > 0xff ? `\\u${code.toString(16)}` : `\\x${hex2(code)}`;
          }),
    )
    .join('');
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
