// Builds the CLI into dist/: one bundle, with a chunk for each part that is
// loaded only on demand (a backend, a postprocessor, a command). Loading a
// few files instead of hundreds of modules is most of modelrun's start-up
// time. Type checking is separate: npm run typecheck.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  // The chunks sit in dist/, one folder below the package root, as
  // src/package-info.ts expects of the file it ends up in.
  chunkNames: '[name]-[hash]',
  // Native add-ons that ssh2 (under dockerode) tries to load, and can do without.
  external: ['*.node', 'cpu-features'],
  // The bundled CommonJS packages ask for these; ESM has them under other names.
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  banner: {
    js: "import { createRequire as __modelrunRequire } from 'node:module'; const require = __modelrunRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
