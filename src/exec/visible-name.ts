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
 * The characters that can make text on a terminal say something else than
 * its bytes: the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069), which turn the rest of a line around, so `evil\u202etxt.sh`
 * shows as `evilhs.txt`; and the zero-width space U+200B, word joiner U+2060
 * and byte-order mark U+FEFF, which make two different names look the same.
 * The other format characters are left alone: scripts and emoji need the
 * zero-width joiner and non-joiner (U+200D, U+200C), the emoji tag
 * characters and the soft hyphen, and none of them can disguise a name.
 */
const deceptiveSet = '\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff';
const deceptiveCharacters = new RegExp(`[${deceptiveSet}]`, 'gu');

/**
 * Characters that would hide or disguise a name: control characters, line
 * and paragraph separators, and the deceptive characters above.
 */
export const hiddenCharacters = new RegExp(`[\\p{Cc}\u2028\u2029${deceptiveSet}]`, 'u');

const hiddenOrBackslash = new RegExp(`[\\\\\\p{Cc}\u2028\u2029${deceptiveSet}]`, 'gu');

/**
 * `text` with the deceptive characters written as `\uNNNN`: what modelrun
 * does to every line of its own that it prints, whatever the line names, so
 * that no name in a message can turn the message around. Control characters
 * are left to visibleName: a line of modelrun's carries its own colour codes.
 */
export function escapeDeceptive(text: string): string {
  return text.replace(deceptiveCharacters, (c) => `\\u${hex4(c)}`);
}

/**
 * A name as a person can read it and paste it back: a byte that is not UTF-8
 * and a control character become \xNN, a line separator or deceptive
 * character \uNNNN, and a backslash \\, so that no name can
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

function hex4(char: string): string {
  return (char.codePointAt(0) as number).toString(16).padStart(4, '0');
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Colour and weight (SGR) sequences, which only style text: dropped from a model's line shown in a summary. */
const styling = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;:]*m`, 'g');

/**
 * A model's line of output as modelrun shows it in a summary of its own
 * (the last lines of stderr, a member's reason): its colours dropped, and
 * every other control character shown, as visibleName does, so that no line
 * can move the cursor, clear the screen or retitle the terminal.
 */
export function visibleLine(line: string): string {
  return visibleName(line.replace(styling, ''));
}

/** Control characters: C0, DEL and C1. */
const controls = /\p{Cc}/gu;

/**
 * Text modelrun recorded and now shows again (ensemble.json's reasons and
 * ids, which a model may have rewritten): each control character as \xNN and
 * each deceptive one as \uNNNN, and nothing else changed, so that text made
 * visible when it was recorded is not escaped twice.
 */
export function withoutControls(text: string): string {
  return escapeDeceptive(
    text.replace(controls, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  );
}
