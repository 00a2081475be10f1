/**
 * An ensemble's `run_id:` template, such as `wave-d{{ member.depth_m }}`:
 * text with `{{ NAME.PATH }}` fields and nothing else, no filters, loops or
 * expressions. A run id names a folder, a container and a job, so a field
 * that could run code or take long has no place in it; this grammar fills
 * in constant time per field.
 */

/** The names a field may start with. */
export const RUN_ID_TEMPLATE_ROOTS = ['member', 'config'] as const;

export type RunIdTemplate = (string | { field: string; path: string[] })[];

const FIELD_PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)+)\s*$/;

/** A field's text as a message shows it: quoted, so that no control character reaches the terminal, and cut when long. */
function shown(field: string): string {
  const text = JSON.stringify(field);
  return text.length <= 80 ? text : `${text.slice(0, 60)}…" (${field.length} characters)`;
}

/** The template's parts, or why it is not one. */
export function parseRunIdTemplate(
  text: string,
): { ok: true; template: RunIdTemplate } | { ok: false; message: string } {
  const parts: RunIdTemplate = [];
  let last = 0;
  // indexOf, not a /{{(.*?)}}/g scan: that one tries every later {{ again
  // after an unclosed one, which took seconds on a long line of braces.
  for (;;) {
    const open = text.indexOf('{{', last);
    const close = open === -1 ? -1 : text.indexOf('}}', open + 2);
    if (close === -1) break;
    const body = text.slice(open + 2, close);
    const path = FIELD_PATH.exec(body)?.[1]?.split('.');
    const root = path?.[0];
    if (path === undefined || !RUN_ID_TEMPLATE_ROOTS.some((name) => name === root))
      return {
        ok: false,
        message: `${shown(`{{${body}}}`)} is not a field a run id can hold: write {{ member.NAME }} (a parameter's last key, index or replica) or {{ config.PATH }}, with no filters or expressions`,
      };
    if (text.slice(last, open).includes('}}')) break;
    if (open > last) parts.push(text.slice(last, open));
    parts.push({ field: `${path.join('.')}`, path });
    last = close + 2;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}') || /\{%|%\}|\{#|#\}/.test(text))
    return {
      ok: false,
      message:
        'holds an unclosed {{, a stray }} or a {% %} or {# #} block; a run id template holds only {{ member.NAME }} and {{ config.PATH }} fields',
    };
  if (rest !== '') parts.push(rest);
  return { ok: true, template: parts };
}

/**
 * The run id a template gives for `scope`, or why it gives none: a field
 * that names nothing, or a value that is not a number, text or boolean.
 */
export function renderRunId(
  template: RunIdTemplate,
  scope: Record<string, unknown>,
): { ok: true; runId: string } | { ok: false; message: string } {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    let value: unknown = scope;
    for (const key of part.path) value = valueAt(value, key);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out += String(value);
    else
      return {
        ok: false,
        message:
          value === undefined
            ? `{{ ${part.field} }} names nothing`
            : `{{ ${part.field} }} is ${Array.isArray(value) ? 'a list' : value === null ? 'null' : 'a mapping'}, not a value a run id can hold`,
      };
  }
  return { ok: true, runId: out };
}

/** The value under `key` of a mapping, or of a list by its index; a list's length is not a value of the file. */
function valueAt(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
  if (Array.isArray(value) && !/^\d+$/.test(key)) return undefined;
  return (value as Record<string, unknown>)[key];
}
