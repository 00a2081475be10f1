import { INTERPOLATION_REF } from './interpolation-schema.js';
import type { JsonSchema } from './json-schema.js';

/**
 * A Markdown reference of every field, generated from the JSON Schemas so
 * that it says exactly what validation enforces.
 */
export function renderReference(
  sections: { heading: string; intro: string; schema: JsonSchema }[],
): string {
  const out = [
    '# Config reference',
    '',
    '<!-- Generated from the JSON Schemas by `npm run schemas`; do not edit by hand. -->',
    '',
    'Relative paths in any config are resolved against the config file’s own folder, and `~/` against your home folder.',
    'String values may use `${VAR}` and `${VAR:-default}` to read the environment at load time; `$${` writes a literal `${`.',
    '',
  ];
  for (const { heading, intro, schema } of sections) {
    out.push(
      `## ${heading}`,
      '',
      intro,
      '',
      '| Field | Type | Default | Description | Example |',
      '| --- | --- | --- | --- | --- |',
    );
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (name === '$schema') continue;
      const fallback =
        property.default === undefined
          ? required.has(name)
            ? 'required'
            : ''
          : code(property.default);
      const example = Array.isArray(property.examples) ? code(property.examples[0]) : '';
      out.push(
        `| \`${name}\` | ${typeOf(property)} | ${fallback} | ${cell(String(property.description ?? ''))} | ${example} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return code(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(code).join(', ');
  if (Array.isArray(schema.anyOf)) {
    // Every checked field also takes ${VAR}; the reference says so once, not per field.
    const forms = (schema.anyOf as JsonSchema[]).filter((s) => s.$ref !== INTERPOLATION_REF);
    return forms.length === 1 ? typeOf(forms[0] as JsonSchema) : forms.map(typeOf).join(' or ');
  }
  const type = Array.isArray(schema.type) ? schema.type.join(' / ') : String(schema.type ?? 'any');
  if (type === 'integer' && schema.minimum !== undefined) {
    return schema.maximum === undefined
      ? `integer ≥ ${schema.minimum}`
      : `integer ${schema.minimum}–${schema.maximum}`;
  }
  if (
    type === 'string' &&
    schema.pattern === '^(?=\\d)(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?$'
  )
    return 'duration';
  if (type === 'array') return `list of ${typeOf((schema.items as JsonSchema | undefined) ?? {})}`;
  if (type === 'object')
    return `map of ${typeOf((schema.additionalProperties as JsonSchema | undefined) ?? {})}`;
  return type;
}

function code(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
