import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, posix, relative, sep } from 'node:path';
import type * as TypeScript from 'typescript';

// Required, not imported: Node's import of a CommonJS module first scans all
// of it (9 MB here) for the names it exports, which takes three times longer.
const ts: typeof TypeScript = createRequire(import.meta.url)('typescript');

/** One import of one source file, with the file it names when that is one of ours. */
export interface ImportEdge {
  /** The importing file, relative to the repository root, with `/`: `src/run/pipeline.ts`. */
  from: string;
  /** 1-based line of the import. */
  line: number;
  /** The specifier as written: `../load/backend-config.js`. */
  specifier: string;
  /** The file it resolves to, like `from`; undefined for a package or a `node:` module. */
  to: string | undefined;
}

/** A layering rule: which files it is about, and which of their imports it refuses. */
export interface ImportRule {
  name: string;
  /** Whether the rule is about imports made by this file. */
  appliesTo(file: string): boolean;
  /** Whether importing `to` from `from` breaks the rule. */
  refuses(to: string, from: string): boolean;
}

/**
 * Every import, re-export, dynamic `import()` and `import('x')` type of a
 * source text, `import type` included: a type-only import still ties the
 * layers together. TypeScript's pre-processor scans for them without a full
 * parse, skipping strings and comments, so the whole of src/ takes moments.
 */
export function importsOf(text: string): { specifier: string; line: number }[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => ({
    specifier: file.fileName,
    line: text.slice(0, file.pos).split('\n').length,
  }));
}

/**
 * The file a relative specifier names, relative to the repository root.
 * Sources import `./x.js` and TypeScript finds `./x.ts`, as module
 * `nodenext` has it; a name with no file behind it is kept as written, so
 * that the caller can see it did not resolve.
 */
export function resolveSpecifier(
  root: string,
  from: string,
  specifier: string,
): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = posix.join(posix.dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.d.ts'), target];
  return candidates.find((file) => existsSync(join(root, file))) ?? target;
}

/** The imports of every source file under `src/` but tests, read with the TypeScript parser. */
export function readImportGraph(root: string): ImportEdge[] {
  return sourceFiles(join(root, 'src')).flatMap((path) => {
    const from = relative(root, path).split(sep).join('/');
    return importsOf(readFileSync(path, 'utf8')).map(({ specifier, line }) => ({
      from,
      line,
      specifier,
      to: resolveSpecifier(root, from, specifier),
    }));
  });
}

/** Test code beside the source: test files, and the case table in each backend's folder. */
function isTestCode(path: string): boolean {
  const file = path.split(sep).join('/');
  return /\.test\.[cm]?ts$/.test(file) || /\/src\/backends\/[^/]+\/config-cases\.ts$/.test(file);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?ts$/.test(entry.name) && !isTestCode(path) ? [path] : [];
  });
}

/**
 * The dynamic imports of a source text whose specifier is computed
 * (`import(\`../${name}.js\`)`, `import(path)`): the import reader cannot
 * see where they lead, so the layering could not be checked.
 */
export function computedImportsOf(text: string): number[] {
  const source = ts.createSourceFile('x.ts', text, ts.ScriptTarget.Latest, true);
  const lines: number[] = [];
  const visit = (node: TypeScript.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      !(node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0]))
    )
      lines.push(source.getLineAndCharacterOfPosition(node.getStart()).line + 1);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}

/** Every computed dynamic import under `src/` but tests: `src/backends/slurm/runner.ts:12`. */
export function computedImports(root: string): string[] {
  return sourceFiles(join(root, 'src')).flatMap((path) => {
    const from = relative(root, path).split(sep).join('/');
    return computedImportsOf(readFileSync(path, 'utf8')).map((line) => `${from}:${line}`);
  });
}

/** The imports that break `rule`, one line each: `src/run/pipeline.ts:9 imports ../load/x.js`. */
export function breaches(rule: ImportRule, edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => e.to !== undefined && rule.appliesTo(e.from) && rule.refuses(e.to, e.from))
    .map((e) => `${e.from}:${e.line} imports ${e.specifier}`);
}

/** The folder of `file` under src/ (`run` for src/run/pipeline.ts), or '' for a root file. */
export function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 && parts[0] === 'src' ? (parts[1] ?? '') : '';
}

/** The backend folder `file` lives in (`docker`, `containers`), or undefined. */
export function backendFolderOf(file: string): string | undefined {
  const parts = file.split('/');
  return parts[0] === 'src' && parts[1] === 'backends' && parts.length > 3 ? parts[2] : undefined;
}
