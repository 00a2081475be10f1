import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import {
  backendFolderOf,
  breaches,
  computedImports,
  computedImportsOf,
  type ImportEdge,
  type ImportRule,
  importsOf,
  layerOf,
  readImportGraph,
} from './helpers/import-graph.js';

const inFolder = (folder: string) => (file: string) => file.startsWith(`src/${folder}/`);
/** `src/*.ts` but the library entry, which may gather anything but the CLI. */
const isRootLeaf = (file: string) => /^src\/[^/]+\.ts$/.test(file) && file !== 'src/index.ts';
/** The contract and the helpers every backend shares; the registry gathers backends instead. */
const isBackendShared = (file: string) =>
  /^src\/backends\/[^/]+\.ts$/.test(file) && file !== 'src/backends/registry.ts';
/** A backend's own folder (`docker`, `slurm`…): every folder under backends/ but containers/. */
const isBackendFolder = (file: string) => {
  const folder = backendFolderOf(file);
  return folder !== undefined && folder !== 'containers';
};
const otherBackend = (to: string, from: string) =>
  isBackendFolder(to) && backendFolderOf(to) !== backendFolderOf(from);

/**
 * The layering, lowest first. Data flows CLI → load → model → run →
 * postprocess → record; exec/ and the root files sit under all of it.
 */
const rules: ImportRule[] = [
  {
    name: 'exec/ imports nothing from src/ outside exec/',
    appliesTo: inFolder('exec'),
    refuses: (to) => !inFolder('exec')(to),
  },
  {
    name: 'root files (src/*.ts but index.ts) import no src/ folder but exec/',
    appliesTo: isRootLeaf,
    refuses: (to) => layerOf(to) !== '' && !inFolder('exec')(to),
  },
  {
    name: 'a backend folder imports only exec/, config/, root files, the contract and shared helpers, containers/ and itself',
    appliesTo: isBackendFolder,
    refuses: (to, from) =>
      !(
        inFolder('exec')(to) ||
        inFolder('config')(to) ||
        isRootLeaf(to) ||
        isBackendShared(to) ||
        backendFolderOf(to) === 'containers' ||
        backendFolderOf(to) === backendFolderOf(from)
      ),
  },
  {
    name: 'no backend folder imports another backend folder',
    appliesTo: isBackendFolder,
    refuses: otherBackend,
  },
  {
    name: 'the shared backend files (src/backends/*.ts but the registry) import only exec/, config/, root files, each other and containers/',
    appliesTo: isBackendShared,
    refuses: (to) =>
      !(
        inFolder('exec')(to) ||
        inFolder('config')(to) ||
        isRootLeaf(to) ||
        isBackendShared(to) ||
        backendFolderOf(to) === 'containers'
      ),
  },
  {
    name: 'only the library entry and cli/ import api/',
    appliesTo: (file) =>
      !inFolder('api')(file) && !inFolder('cli')(file) && file !== 'src/index.ts',
    refuses: inFolder('api'),
  },
  {
    name: 'no backend folder imports guardian/',
    appliesTo: isBackendFolder,
    refuses: inFolder('guardian'),
  },
  {
    name: 'containers/ imports no backend folder, nor the registry',
    appliesTo: (file) => backendFolderOf(file) === 'containers',
    refuses: (to) => isBackendFolder(to) || to === 'src/backends/registry.ts',
  },
  {
    name: 'guardian/ imports no backend folder, only the registry and the contract',
    appliesTo: inFolder('guardian'),
    refuses: (to) =>
      inFolder('backends')(to) &&
      !['src/backends/registry.ts', 'src/backends/contract.ts'].includes(to),
  },
  {
    name: 'nothing outside cli/ imports cli/',
    appliesTo: (file) => !inFolder('cli')(file),
    refuses: inFolder('cli'),
  },
  {
    name: 'load/ never imports run/',
    appliesTo: inFolder('load'),
    refuses: inFolder('run'),
  },
  {
    name: 'model/ never imports run/, load/ or postprocess/',
    appliesTo: inFolder('model'),
    refuses: (to) => ['run', 'load', 'postprocess'].includes(layerOf(to)),
  },
  {
    name: 'runs/ never imports run/ or cli/',
    appliesTo: inFolder('runs'),
    refuses: (to) => ['run', 'cli'].includes(layerOf(to)),
  },
  {
    name: 'ensemble/ never imports run/ or cli/',
    appliesTo: inFolder('ensemble'),
    refuses: (to) => ['run', 'cli'].includes(layerOf(to)),
  },
  {
    name: 'run/ never imports load/ or cli/',
    appliesTo: inFolder('run'),
    refuses: (to) => ['load', 'cli'].includes(layerOf(to)),
  },
];

const graph = readImportGraph(REPO_ROOT);

function rule(name: string): ImportRule {
  const found = rules.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no rule named "${name}"`);
  return found;
}

describe('the layering of src/', () => {
  for (const rule of rules) {
    it(rule.name, () => {
      expect(breaches(rule, graph)).toEqual([]);
    });
  }
});

describe('the import reader', () => {
  it('finds no import whose specifier is computed, which it could not follow', () => {
    expect(computedImports(REPO_ROOT)).toEqual([]);
  });

  it('tells a computed import from a written one', () => {
    const text = [
      "const a = await import('./a.js');",
      'const b = await import(`../docker/${name}.js`);',
      'const c = await import(path);',
    ].join('\n');
    expect(computedImportsOf(text)).toEqual([2, 3]);
  });

  it('finds the imports of src/, each to a file that exists', () => {
    const ours = graph.filter((edge) => edge.to !== undefined);
    // Hundreds of imports: a reader that found none would let every rule pass.
    expect(ours.length).toBeGreaterThan(500);
    expect(ours.filter((edge) => !edge.to?.endsWith('.ts')).map((e) => e.specifier)).toEqual([]);
  });

  it.each(rules.map((rule) => [rule.name, rule] as const))(
    'has imports for the rule "%s" to judge',
    (_name, rule) => {
      expect(graph.some((edge) => edge.to !== undefined && rule.appliesTo(edge.from))).toBe(true);
    },
  );

  it('reads every kind of import, with its line', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export type * from './d.js';",
      "const e = await import('./e.js');",
      "type F = typeof import('./f.js');",
      "import g = require('./g.js');",
      "import './h.js';",
      "function i() { return import('./i.js'); }",
      'const notAnImport = "import { j } from \'./j.js\'";',
      "// import { k } from './k.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual(
      [
        './a.js',
        '../b.js',
        './c.js',
        './d.js',
        './e.js',
        './f.js',
        './g.js',
        './h.js',
        './i.js',
      ].map((specifier, index) => ({ specifier, line: index + 1 })),
    );
  });

  it('reports an import that breaks a rule, with its file, line and specifier', () => {
    const edges: ImportEdge[] = [
      { from: 'src/run/a.ts', line: 3, specifier: '../load/b.js', to: 'src/load/b.ts' },
      { from: 'src/run/a.ts', line: 4, specifier: '../model/c.js', to: 'src/model/c.ts' },
      { from: 'src/load/b.ts', line: 1, specifier: '../run/a.js', to: 'src/run/a.ts' },
      { from: 'src/run/a.ts', line: 5, specifier: 'zod', to: undefined },
    ];
    expect(breaches(rule('run/ never imports load/ or cli/'), edges)).toEqual([
      'src/run/a.ts:3 imports ../load/b.js',
    ]);
  });

  it("tells a backend's own folder and containers/ from another backend's folder", () => {
    const edges: ImportEdge[] = [
      ['../containers/x.js', 'src/backends/containers/x.ts'],
      ['./y.js', 'src/backends/slurm/y.ts'],
      ['../contract.js', 'src/backends/contract.ts'],
      ['../docker/z.js', 'src/backends/docker/z.ts'],
    ].map(([specifier = '', to], line) => ({
      from: 'src/backends/slurm/a.ts',
      line,
      specifier,
      to,
    }));
    expect(breaches(rule('no backend folder imports another backend folder'), edges)).toEqual([
      'src/backends/slurm/a.ts:3 imports ../docker/z.js',
    ]);
  });
});
