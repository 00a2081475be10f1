import { stringify } from 'yaml';
import type { TemplateSpec } from '../backends/contract.js';
import type { JsonSchema } from './json-schema.js';

export interface TemplateOptions {
  format: 'yaml' | 'json';
  /**
   * Also set every field that has a default, to that default. Example values
   * stay commented out: they name this machine's paths, images, partitions or
   * GPUs, and a value that is wrong elsewhere would break a run.
   */
  withExamples: boolean;
  /** Where the file's JSON Schema is, as the editor should find it from the file. */
  schemaRef: string;
  /**
   * A base the file extends: its path from the file's folder, and the keys
   * it sets, which the file then leaves to it (commented out) rather than
   * setting them again.
   */
  base?: { path: string; keys: readonly string[] };
}

type Line = { key: string; value: unknown; docs: string; active: boolean };

/**
 * A starting config for one backend type, generated from its JSON Schema so
 * that the comments are the field descriptions and cannot drift from them.
 */
export function renderTemplate(
  schema: JsonSchema,
  spec: TemplateSpec,
  options: TemplateOptions,
): string {
  const properties = schema.properties ?? {};
  const type = (properties.type?.const as string | undefined) ?? '';
  const lines: Line[] = [];
  for (const [key, property] of Object.entries(properties)) {
    if (key === '$schema' || key === 'type') continue;
    const { base } = options;
    if (key === 'extends' && base !== undefined) {
      lines.push({ key, value: base.path, docs: describe(property, false), active: true });
      continue;
    }
    const inBase = base?.keys.includes(key) ?? false;
    // A base that sets one of two alternatives (image or dockerfile) has made the choice.
    const chosen =
      base !== undefined && (spec.alternatives ?? []).some((k) => base.keys.includes(k));
    const required = key in spec.required && !inBase && !chosen;
    const alternative = spec.alternatives?.includes(key) ?? false;
    const value =
      key in spec.required ? spec.required[key] : (property.default ?? firstExample(property));
    lines.push({
      key,
      value,
      docs: describe(property, required),
      // A default is the one value known to run everywhere: it is what an unset field does.
      active:
        required ||
        (options.withExamples && !alternative && !inBase && property.default !== undefined),
    });
  }
  return options.format === 'json'
    ? renderJson(type, lines, options)
    : renderYaml(type, String(schema.description ?? ''), lines, options);
}

function firstExample(property: JsonSchema): unknown {
  return Array.isArray(property.examples) ? property.examples[0] : undefined;
}

function describe(property: JsonSchema, required: boolean): string {
  const description = String(property.description ?? '');
  if (required) return `${description} (required)`;
  return property.default === undefined
    ? description
    : `${description} Default: ${JSON.stringify(property.default)}.`;
}

function renderJson(type: string, lines: Line[], options: TemplateOptions): string {
  const body: Record<string, unknown> = { $schema: options.schemaRef, type };
  for (const line of lines) if (line.active) body[line.key] = line.value;
  return `${JSON.stringify(body, null, 2)}\n`;
}

function renderYaml(
  type: string,
  description: string,
  lines: Line[],
  options: TemplateOptions,
): string {
  const out = [
    `# yaml-language-server: $schema=${options.schemaRef}`,
    ...comment(description),
    '# Check this file with: modelrun backends validate <file>',
    '',
    `type: ${type}`,
  ];
  for (const line of lines) {
    out.push('', ...comment(line.docs));
    const text = stringify({ [line.key]: line.value }, { lineWidth: 0 })
      .trimEnd()
      .split('\n');
    out.push(...(line.active ? text : text.map((l) => `# ${l}`)));
  }
  return `${out.join('\n')}\n`;
}

/** Wraps prose into `# ` comment lines of at most about 80 columns. */
function comment(text: string, width = 78): string[] {
  const lines: string[] = [];
  let current = '#';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current.length + 1 + word.length > width && current !== '#') {
      lines.push(current);
      current = '#';
    }
    current += ` ${word}`;
  }
  if (current !== '#') lines.push(current);
  return lines;
}
