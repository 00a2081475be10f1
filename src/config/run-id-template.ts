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

const FIELD = /\{\{(.*?)\}\}/gs;
const FIELD_PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)+)\s*$/;

/** The template's parts, or why it is not one. */
export function parseRunIdTemplate(
  text: string,
): { ok: true; template: RunIdTemplate } | { ok: false; message: string } {
  const parts: RunIdTemplate = [];
  let last = 0;
  for (const match of text.matchAll(FIELD)) {
    const body = match[1] ?? '';
    const path = FIELD_PATH.exec(body)?.[1]?.split('.');
    const root = path?.[0];
    if (path === undefined || !RUN_ID_TEMPLATE_ROOTS.some((name) => name === root))
      return {
        ok: false,
        message: `{{${body}}} is not a field a run id can hold: write {{ member.NAME }} (a parameter's last key, index or replica) or {{ config.PATH }}, with no filters or expressions`,
      };
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({ field: `${path.join('.')}`, path });
    last = match.index + match[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}') || /\{%|%\}|\{#|#\}/.test(text))
    return {
      ok: false,
      message:
        'holds an unclosed {{ or a {% %} or {# #} block; a run id template holds only {{ member.NAME }} and {{ config.PATH }} fields',
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
    for (const key of part.path) {
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
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
