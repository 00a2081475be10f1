// Builds the CLI into dist/: one bundle, with a chunk for each part that is
// loaded only on demand (a backend, a postprocessor, a command). Loading a
// few files instead of hundreds of modules is most of modelrun's start-up
// time. Type checking is separate: npm run typecheck.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

/**
 * Modules that modelrun cannot reach, replaced by stubs that say so.
 * - dockerode's BuildKit session, used only by buildImage({ version: '2' }),
 *   and its BuildKit progress decoder (protobufjs), used only by
 *   docker.followProgress(); modelrun builds with the classic builder and
 *   reads the build stream itself (src/backends/docker/dockerode-engine.ts).
 * - docker-modem's SSH transport, used only for ssh:// engine addresses,
 *   which engineAddress (src/backends/containers/docker-engine-api.ts) rejects.
 *   With what they load (gRPC, protobuf, an SSH client), these two were
 *   most of the bundle's size and 40 ms of every docker run's start-up.
 * - commander's child_process, used only for executable subcommands
 *   (`modelrun-run` files on the PATH), which modelrun does not declare:
 *   loading it was a tenth of `modelrun --help`.
 */
const unreachable = {
  name: 'unreachable-paths',
  setup(bundle) {
    const stubs = [
      { file: /^\.\/session$/, from: /dockerode[\\/]lib$/, what: 'BuildKit sessions' },
      { file: /^\.\/buildkit$/, from: /dockerode[\\/]lib$/, what: 'BuildKit progress decoding' },
      { file: /^\.\/ssh$/, from: /docker-modem[\\/]lib$/, what: 'ssh:// engine addresses' },
      { file: /^node:child_process$/, from: /commander[\\/]lib$/, what: 'executable subcommands' },
    ];
    for (const stub of stubs) {
      bundle.onResolve({ filter: stub.file }, (args) =>
        stub.from.test(args.resolveDir) ? { path: stub.what, namespace: 'unreachable' } : undefined,
      );
    }
    bundle.onLoad({ filter: /.*/, namespace: 'unreachable' }, (args) => ({
      contents: `module.exports = function () { throw new Error('modelrun does not support ${args.path}'); };`,
      loader: 'js',
    }));
  },
};

/**
 * proper-lockfile (staging and image locks) registers signal-exit v3 as it
 * loads, which puts listeners on a dozen signals and replaces process.emit
 * and process.reallyExit for good: a library call that took a lock would
 * leave them in the caller's process. They only remove lock directories of
 * a process that dies, which modelrun covers itself: runs release their
 * locks in their cleanup (Ctrl-C, SIGTERM and SIGHUP included, see
 * src/run/interrupts.ts), the guardian releases the staging lock of a run
 * that died, and a lock left by a kill -9 goes stale (15 s for staging,
 * 60 s for images). So the bundle gets a signal-exit that registers nothing.
 */
const noSignalExit = {
  name: 'no-signal-exit-for-proper-lockfile',
  setup(bundle) {
    bundle.onResolve({ filter: /^signal-exit$/ }, (args) =>
      /proper-lockfile[\\/]lib$/.test(args.resolveDir)
        ? { path: 'signal-exit', namespace: 'no-signal-exit' }
        : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: 'no-signal-exit' }, () => ({
      contents: [
        'const onExit = () => () => {};',
        'onExit.load = () => {};',
        'onExit.unload = () => {};',
        'onExit.signals = () => [];',
        'module.exports = onExit;',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

await build({
  // The CLI, the library (package.json "exports"), the guardian a run
  // starts beside it (src/guardian/client.ts), and the thread that renders
  // templates (src/model/template-renderer.ts). What the CLI and the library
  // share goes into chunks, so the CLI loads none of the library's own code.
  entryPoints: {
    main: 'src/cli/main.ts',
    index: 'src/index.ts',
    guardian: 'src/guardian/main.ts',
    'render-worker': 'src/model/render-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Maps let `--verbose` stack traces name src/ files (bin/modelrun.js turns
  // them on); names and lines need only the mappings, not a copy of every
  // source, which would triple what the package installs.
  sourcemap: 'linked',
  sourcesContent: false,
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
  plugins: [unreachable, noSignalExit],
  logLevel: 'warning',
});
