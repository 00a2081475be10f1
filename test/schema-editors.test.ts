import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type * as z from 'zod';
import { backendTypes } from '../src/backends/registry.js';
import { diskPathContext } from '../src/config/path-context.js';
import { validateBackendText } from '../src/load/backend-config.js';
import { modelConfigSchema } from '../src/load/model-schema.js';
import { parseYaml } from '../src/load/parse-yaml.js';
import { pipelineConfigSchema } from '../src/load/pipeline-file.js';
import { locate } from '../src/load/positions.js';
import { validateText } from '../src/load/validate.js';
import { postprocessorSchema, postprocessorTypes } from '../src/postprocess/registry.js';
import type { PathSegment, Problem } from '../src/problems.js';
import { BACKEND_CASES, type BackendCase, CASE_TREE } from './cases/backend-cases.js';
import { MODEL_CASE_TREE, MODEL_CASES } from './cases/model-cases.js';
import { PIPELINE_CASE_TREE, PIPELINE_CASES } from './cases/pipeline-cases.js';
import { POSTPROCESSOR_CASES } from './cases/postprocessor-cases.js';
import { strictAjv } from './helpers/ajv.js';
import { REPO_ROOT } from './helpers/cli.js';
import { makeTree } from './helpers/tree.js';
import { type Diagnostic, YamlLanguageServer } from './helpers/yaml-language-server.js';

/**
 * What an editor shows must agree with modelrun. A real yaml-language-server,
 * given the committed schemas as a user's editor is, shows nothing on the
 * examples and on every valid case of the rule tables, and marks every broken
 * case that a JSON Schema can express on the line where modelrun reports it,
 * in words rather than a regular expression.
 */

const SCHEMAS = join(REPO_ROOT, 'schemas');
const EXAMPLES = join(REPO_ROOT, 'examples');
const STARTER = join(REPO_ROOT, 'starter');

/**
 * Broken cases that a JSON Schema can refuse, but not on modelrun's line:
 * each with why. (Cases a JSON Schema cannot refuse at all carry
 * `schemaCannot` in their table.)
 */
const ELSEWHERE_IN_EDITORS: Record<string, string> = {
  "postprocessor schema: a key of another type's":
    'the combined postprocessor schema is a oneOf by type, and yaml-language-server follows the branch whose keys fit best (archive, which has format), so it marks the type; postprocess-noop.schema.json marks format',
};

// The cases' own `$schema` keys name ../schemas/ beside them, and an editor follows them.
const tree = makeTree({
  ...CASE_TREE,
  ...MODEL_CASE_TREE,
  ...PIPELINE_CASE_TREE,
  ...Object.fromEntries(
    readdirSync(SCHEMAS).map((name) => [
      `editor/schemas/${name}`,
      readFileSync(join(SCHEMAS, name), 'utf8'),
    ]),
  ),
});
const ctx = diskPathContext(tree.root);

interface Document {
  name: string;
  /** The schema file it is checked against, in schemas/. */
  schema: string;
  text: string;
  /**
   * Lines (1-based) of modelrun's errors, and of the keys of the values it
   * marks (an editor marks the key of a block value); empty for a valid document.
   */
  errorLines: number[];
  /** Why JSON Schema cannot refuse it, for a broken document it accepts. */
  schemaCannot?: string;
  /** Where the editor opens it; from the file name the server picks its schema. */
  file: string;
}

function lines(text: string, errors: Problem[]): number[] {
  const parsed = parseYaml(text);
  const keyLines = parsed.ok
    ? errors.flatMap((e) => {
        const path = pathSegments(e.path);
        // A missing key is marked on the key of the mapping that lacks it.
        const keys = path.length > 1 ? [path, path.slice(0, -1)] : [path];
        return keys.map((p) => locate(parsed.parsed, p, 'key').line);
      })
    : [];
  return [...new Set([...errors.map((e) => e.line), ...keyLines])];
}

/** The segments of a path as formatPath writes it: a.b[0]["odd key"]. */
function pathSegments(path: string): PathSegment[] {
  return [...path.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.[\]]+)/g)].map((m) =>
    m[2] !== undefined
      ? Number(m[2])
      : m[1] !== undefined
        ? (JSON.parse(`"${m[1]}"`) as string)
        : (m[3] ?? ''),
  );
}

function backendDocuments(testCase: BackendCase, index: number): Document[] {
  const result = validateBackendText(tree.path('backend.yml'), testCase.yaml, { env: {} });
  const type = String((parse(testCase.yaml) as { type?: unknown } | null)?.type);
  const schemas = ['backend', ...(backendTypes.includes(type) ? [type] : [])];
  return schemas.map((schema) => ({
    name: `${schema} schema: ${testCase.name}`,
    schema: `${schema}.schema.json`,
    text: testCase.yaml,
    errorLines: lines(testCase.yaml, result.errors),
    ...(testCase.schemaCannot === undefined ? {} : { schemaCannot: testCase.schemaCannot }),
    file: tree.path('editor', schema, `case-${index}.yml`),
  }));
}

function configDocument(kind: string, testCase: BackendCase, index: number): Document {
  const schema: z.ZodType<unknown> =
    kind === 'model'
      ? modelConfigSchema(ctx)
      : kind === 'pipeline'
        ? pipelineConfigSchema(ctx)
        : postprocessorSchema(ctx);
  const result = validateText(tree.path('case.yml'), testCase.yaml, schema, { env: {} });
  return {
    name: `${kind} schema: ${testCase.name}`,
    schema: `${kind}.schema.json`,
    text: testCase.yaml,
    errorLines: lines(testCase.yaml, result.errors),
    ...(testCase.schemaCannot === undefined ? {} : { schemaCannot: testCase.schemaCannot }),
    file: tree.path('editor', kind, `case-${index}.yml`),
  };
}

/** The examples and the starter project, each checked against the schema its modeline names. */
function exampleDocuments(): Document[] {
  const files = [EXAMPLES, STARTER].flatMap((folder) =>
    readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(folder, f)),
  );
  return files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    if (modeline === undefined) throw new Error(`${file} has no $schema modeline`);
    const schemaFile = resolve(dirname(file), modeline);
    expect(dirname(schemaFile)).toBe(SCHEMAS);
    return {
      name: file.slice(REPO_ROOT.length + 1),
      schema: basename(schemaFile),
      text,
      errorLines: [],
      file,
    };
  });
}

const documents: Document[] = [
  ...BACKEND_CASES.flatMap(backendDocuments),
  ...MODEL_CASES.map((c, i) => configDocument('model', c, i)),
  ...PIPELINE_CASES.map((c, i) => configDocument('pipeline', c, i)),
  ...POSTPROCESSOR_CASES.flatMap((c, i) => {
    const type = String((parse(c.yaml) as { type?: unknown } | null)?.type);
    const kinds = [
      'postprocessor',
      ...(postprocessorTypes.includes(type) ? [`postprocess-${type}`] : []),
    ];
    return kinds.map((kind) => configDocument(kind, c, i));
  }),
];
const examples = exampleDocuments();

const diagnostics = new Map<string, Diagnostic[]>();
let server: YamlLanguageServer | undefined;

beforeAll(async () => {
  // Table cases get their schema as the yaml.schemas setting would give it, by
  // folder; the examples by their own modelines.
  const kinds = new Set(documents.map((d) => d.schema));
  server = await YamlLanguageServer.start(
    Object.fromEntries(
      [...kinds].map((schema) => [
        join(SCHEMAS, schema),
        [`**/editor/${schema.replace('.schema.json', '')}/*.yml`],
      ]),
    ),
  );
  const running = server;
  await Promise.all(
    [...documents, ...examples].map(async (d) =>
      diagnostics.set(d.file, await running.diagnose(d.file, d.text)),
    ),
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  tree.remove();
});

const shown = (list: Diagnostic[] | undefined) =>
  (list ?? []).map((d) => `${d.range.start.line + 1}: ${d.message}`).join('\n');

const ajv = strictAjv();
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
function ajvErrors(schema: string, text: string): unknown[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, schema), 'utf8')));
    compiled.set(schema, validate);
  }
  return validate(parse(text)) ? [] : (validate.errors ?? []);
}

describe('the examples', () => {
  it.each(examples)('$name has no error in ajv or the language server', (d) => {
    expect(ajvErrors(d.schema, d.text)).toEqual([]);
    expect(shown(diagnostics.get(d.file))).toBe('');
  });
});

describe('valid cases', () => {
  const valid = documents.filter((d) => d.errorLines.length === 0 || d.schemaCannot !== undefined);
  it.each(valid)('$name has no error in ajv or the language server', (d) => {
    expect(ajvErrors(d.schema, d.text)).toEqual([]);
    expect(shown(diagnostics.get(d.file))).toBe('');
  });
});

describe('broken cases', () => {
  const broken = documents.filter(
    (d) =>
      d.errorLines.length > 0 && d.schemaCannot === undefined && !(d.name in ELSEWHERE_IN_EDITORS),
  );
  it.each(broken)('$name is marked where modelrun marks it', (d) => {
    const found = diagnostics.get(d.file) ?? [];
    expect(
      found.some((diagnostic) => d.errorLines.includes(diagnostic.range.start.line + 1)),
      `modelrun: lines ${d.errorLines.join(', ')}; editor:\n${shown(found)}`,
    ).toBe(true);
    // No regular expression reaches the user.
    for (const diagnostic of found) expect(diagnostic.message).not.toMatch(/pattern|\(\?|\\d|\[\^/);
  });
});

describe('exceptions', () => {
  it('name broken cases that exist', () => {
    const names = new Set(documents.filter((d) => d.errorLines.length > 0).map((d) => d.name));
    for (const name of Object.keys(ELSEWHERE_IN_EDITORS)) expect(names).toContain(name);
  });
});
