/**
 * Names what is undefined in a template expression that Nunjucks refused to
 * output. Nunjucks says only "attempted to output null or undefined value"
 * and where the tag starts; the user needs `config.nmae`, not a column.
 */

/** The text inside the `{{ … }}` or `{% … %}` tag that starts at or before line:column (both from 1). */
export function expressionAt(text: string, line: number, column: number): string | undefined {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) return undefined;
  let offset = column - 1;
  for (const before of lines.slice(0, line - 1)) offset += before.length + 1;
  // An output tag, or a statement such as {% set y = config.x | upper %}.
  const open = Math.max(text.lastIndexOf('{{', offset + 1), text.lastIndexOf('{%', offset + 1));
  if (open < 0) return undefined;
  const close = text.indexOf(text[open + 1] === '{' ? '}}' : '%}', open + 2);
  return (close < 0 ? text.slice(open + 2) : text.slice(open + 2, close))
    .replace(/^-|-$/g, '')
    .trim();
}

const KEYWORDS = new Set(
  'and or not in is if elif else true false none set for with filter call macro'.split(' '),
);

/**
 * The first variable path in `expression` that is undefined in `context`:
 * `config.nmae` when config has no nmae. Cut at the first missing part, so
 * `config.grid.nx.y` with no grid names `config.grid`. A path whose first
 * name the context lacks may be a `{% set %}` or loop variable, which cannot
 * be resolved here; it is named whole, and only when nothing better is found.
 */
export function undefinedPath(
  expression: string,
  context: Record<string, unknown>,
): { path: string; parent?: string; known?: string[] } | undefined {
  // Strings and filter names are matched so as to be skipped; group 1 is a path.
  const tokens =
    /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\|\s*[A-Za-z_]\w*|\.\s*[A-Za-z_]\w*|([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*|\[\s*(?:\d+|"[^"]*"|'[^']*')\s*\])*)(\s*\()?/g;
  let unresolved: string | undefined;
  for (const match of expression.matchAll(tokens)) {
    const path = match[1];
    // A function call (range(…)) is not a variable.
    if (path === undefined || match[2] !== undefined || KEYWORDS.has(path)) continue;
    const parts = [...path.matchAll(/[A-Za-z_]\w*|\d+|"([^"]*)"|'([^']*)'/g)].map(
      (part) => part[1] ?? part[2] ?? part[0],
    );
    const [root = '', ...rest] = parts;
    if (!(root in context)) {
      unresolved ??= path.replace(/\s+/g, '');
      continue;
    }
    let value: unknown = context[root];
    let shown = root;
    for (const part of rest) {
      const holder = value;
      value =
        holder !== null && typeof holder === 'object'
          ? (holder as Record<string, unknown>)[part]
          : undefined;
      const parent = shown;
      shown += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
      // A key with a null value is defined: Nunjucks prints it as nothing.
      if (value === undefined)
        return {
          path: shown,
          parent,
          known:
            holder !== null && typeof holder === 'object' && !Array.isArray(holder)
              ? Object.keys(holder)
              : [],
        };
    }
  }
  return unresolved === undefined ? undefined : { path: unresolved };
}

/**
 * The last `{% set NAME = … %}` in `text`, with where its tag starts (line
 * and column from 1): a name printed undefined that a set gave its value
 * was given an undefined value there, and the set is what to fix.
 */
export function setOf(
  text: string,
  name: string,
): { expression: string; line: number; column: number } | undefined {
  if (!/^[A-Za-z_]\w*$/.test(name)) return undefined;
  const sets = [...text.matchAll(new RegExp(`\\{%-?\\s*set\\s+${name}\\s*=([^]*?)-?%\\}`, 'g'))];
  const last = sets.at(-1);
  if (last === undefined) return undefined;
  const before = text.slice(0, last.index).split('\n');
  return {
    expression: (last[1] as string).trim(),
    line: before.length,
    column: (before.at(-1) as string).length + 1,
  };
}
