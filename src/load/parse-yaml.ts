import { type Document, isMap, LineCounter, parseDocument, visit } from 'yaml';
import { isRecord } from '../records.js';
import { checkStructure, nestingMessage } from './yaml-structure.js';

const NOT_A_MAPPING = 'the file does not hold a mapping';

/** A parsed YAML (or JSON) file that can still say where each of its nodes was written. */
export interface PositionedDocument {
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export interface ParseFailure {
  line: number;
  column: number;
  message: string;
}

export type ParseResult =
  | { ok: true; parsed: PositionedDocument }
  | { ok: false; failures: ParseFailure[] };

export function parseYaml(text: string): ParseResult {
  const lineCounter = new LineCounter();
  // Repeated keys are found by checkStructure, in linear time.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      failures: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        // The parser recurses per level and reports running out of stack as a syntax error.
        const message = /call stack/i.test(error.message)
          ? nestingMessage()
          : error.code === 'MULTIPLE_DOCS'
            ? 'the file holds more than one YAML document (a "---" line after content); a config file holds one: remove the "---" and what follows, or put it in a file of its own'
            : `YAML syntax: ${firstLine(error.message)}`;
        return { line, column: col, message };
      }),
    };
  }
  const structure = checkStructure(doc, lineCounter);
  if (structure.length > 0) {
    return {
      ok: false,
      failures: structure.map((problem) => {
        const { line, col } = lineCounter.linePos(problem.offset);
        return { line, column: col, message: problem.message };
      }),
    };
  }
  if (!isMap(doc.contents)) {
    const offset = doc.contents?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    const what = doc.contents === null ? 'the file is empty' : NOT_A_MAPPING;
    return {
      ok: false,
      failures: [
        {
          line,
          column: col,
          message: `${what}; a config file is a mapping of keys to values, such as "type: local"`,
        },
      ],
    };
  }
  return { ok: true, parsed: { doc, lineCounter } };
}

export const SELF_ALIAS =
  'an alias refers to the anchor it sits in (`&a [*a]`), which makes a value that holds itself; write the values out';

/** Where the first alias inside its own anchor was written. */
function selfAliasOffset(doc: Document.Parsed): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      const target = alias.resolve(doc);
      const [start, end] = alias.range ?? [];
      const [from, to] = target?.range ?? [];
      if (start === undefined || end === undefined || from === undefined || to === undefined)
        return undefined;
      if (start < from || end > to) return undefined;
      found = start;
      return visit.BREAK;
    },
  });
  return found;
}

/** Whether a value holds itself, as an alias inside its own anchor makes it: no config can be one. */
export function holdsItself(value: unknown, within: Set<object> = new Set()): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (within.has(value)) return true;
  within.add(value);
  const found = Object.values(value).some((inner) => holdsItself(inner, within));
  within.delete(value);
  return found;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Anchors may be reused this many times in one file before it counts as an alias bomb. */
export const MAX_ALIAS_COUNT = 100;

/** Converts to plain data, refusing exponential alias expansion ("billion laughs"). */
export function toPlainData(
  parsed: PositionedDocument,
): { ok: true; data: Record<string, unknown> } | { ok: false; message: string; offset?: number } {
  try {
    const data: unknown = parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (holdsItself(data)) {
      const offset = selfAliasOffset(parsed.doc);
      return { ok: false, message: SELF_ALIAS, ...(offset === undefined ? {} : { offset }) };
    }
    // parseYaml has refused a document that is not a mapping; checked again for the type.
    return isRecord(data) ? { ok: true, data } : { ok: false, message: NOT_A_MAPPING };
  } catch (error) {
    const message = (error as Error).message;
    return /excessive alias/i.test(message)
      ? {
          ok: false,
          message: `the file expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times, which looks like an alias bomb; write the values out instead`,
        }
      : { ok: false, message };
  }
}
