// Builds the CLI into dist/: one bundle, with a chunk for each part that is
// loaded only on demand (a backend, a postprocessor, a command). Loading a
// few files instead of hundreds of modules is most of modelrun's start-up
// time. Type checking is separate: npm run typecheck.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
 * docker-modem formats every request it sends for its debug log, with
 * util.inspect of every option, even when that log is off: 15 ms of a
 * docker run's start-up. The bundle formats it only when DEBUG=modem is on.
 */
const quietDockerModem = {
  name: 'docker-modem-debug-only-when-on',
  setup(bundle) {
    bundle.onLoad({ filter: /docker-modem[\\/]lib[\\/]modem\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const call = "debug('Sending: %s', util.inspect(";
      if (!text.includes(call))
        throw new Error(`${args.path} no longer formats its requests as esbuild.config.js expects`);
      return { contents: text.replace(call, `debug.enabled && ${call}`), loader: 'js' };
    });
  },
};

/**
 * docker-modem loads node:https as it loads, for engines reached over TLS:
 * 4 ms of every docker run, which almost always talks to a local socket.
 * The bundle loads it when a request first needs it.
 */
const lazyHttps = {
  name: 'docker-modem-https-when-needed',
  setup(bundle) {
    bundle.onLoad({ filter: /docker-modem[\\/]lib[\\/]http\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const load = "var nativeHttps = require('https'),";
      if (!text.includes(load))
        throw new Error(`${args.path} no longer loads node:https as esbuild.config.js expects`);
      const lazy =
        "var nativeHttps = new Proxy({}, { get: function (_, key) { return require('https')[key]; } }),";
      return { contents: text.replace(load, lazy), loader: 'js' };
    });
  },
};

/**
 * dockerode's dependencies (docker-modem, and bl and tar-fs under it) each
 * carry a copy of readable-stream 3, a port of Node 10's streams: three
 * copies were half of dist/vendor-dockerode.cjs, read at every docker run.
 * What they take from it (Readable, Writable, Duplex, PassThrough) is in
 * Node's own streams, which the bundle gives them instead. (readable-stream's
 * own switch to Node's streams, READABLE_STREAM=disable, copies Stream onto
 * Node's Readable, which throws on Node 20.)
 */
const nodeStreams = {
  name: 'readable-stream-3-as-node-streams',
  setup(bundle) {
    bundle.onLoad({ filter: /readable-stream[\\/]readable\.js$/ }, async (args) => {
      const manifest = JSON.parse(await readFile(join(dirname(args.path), 'package.json'), 'utf8'));
      if (!manifest.version.startsWith('3.')) return undefined;
      const names = ['Readable', 'Writable', 'Duplex', 'Transform', 'PassThrough'];
      const members = names.map((name) => `${name}: Stream.${name}`).join(', ');
      return {
        contents: `var Stream = require('stream'); module.exports = { ${members}, Stream: Stream, finished: Stream.finished, pipeline: Stream.pipeline };`,
        loader: 'js',
      };
    });
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

/**
 * chalk asks supports-color about the terminal as it loads: it loads
 * node:tty (and node:net, node:os with it) and tests both streams, 2 ms of
 * every start-up, `--help` included. modelrun never uses chalk's default
 * level: Output gives each stream its own, from the stream itself
 * (src/cli/output.ts). So the bundle's chalk is told of no colour support.
 */
const noColorSniffing = {
  name: 'chalk-without-supports-color',
  setup(bundle) {
    let replaced = false;
    bundle.onResolve({ filter: /^#supports-color$/ }, (args) => {
      if (!/chalk[\\/]source$/.test(args.resolveDir)) return undefined;
      replaced = true;
      return { path: 'supports-color', namespace: 'no-color-sniffing' };
    });
    bundle.onLoad({ filter: /.*/, namespace: 'no-color-sniffing' }, () => ({
      contents: 'export default { stdout: false, stderr: false };',
      loader: 'js',
    }));
    bundle.onEnd((result) => {
      const chalkInBundle = Object.keys(result.metafile?.inputs ?? {}).some((input) =>
        /node_modules[\\/]chalk[\\/]/.test(input),
      );
      if (chalkInBundle && !replaced)
        throw new Error('chalk no longer imports #supports-color as esbuild.config.js expects');
    });
  },
};

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  // Maps let `--verbose` stack traces name src/ files (bin/modelrun.js turns
  // them on); names and lines need only the mappings, not a copy of every
  // source, which would triple what the package installs.
  sourcemap: 'linked',
  sourcesContent: false,
  // Native add-ons that ssh2 (under dockerode) tries to load, and can do without.
  external: ['*.node', 'cpu-features'],
  logLevel: 'warning',
};

/**
 * Packages that only some commands need, each bundled once into
 * dist/vendor-<name>.cjs, which the CLI loads when it first needs it. Kept
 * out of dist/cli.cjs, they are not read at every start-up.
 */
const VENDORED = ['dockerode', 'archiver', 'nunjucks', 'execa', 'tar-stream'];

const vendored = {
  name: 'vendored-packages',
  setup(bundle) {
    const names = new RegExp(`^(${VENDORED.join('|')})$`);
    bundle.onResolve({ filter: names }, (args) => ({
      path: `./vendor-${args.path}.cjs`,
      external: true,
    }));
  },
};

// The CLI's own code is CommonJS: Node 20 can cache the compiled code of a
// script (src/cli/code-cache.ts), not of an ES module, and compiling was a
// third of every start-up. One bundle, main.cjs, answers --version alone
// and loads cli.cjs for everything else.
const commonjs = {
  ...shared,
  format: 'cjs',
  // import() becomes require(), which the cached script can call.
  supported: { 'dynamic-import': false },
  // The same bytes read as Latin-1, five times faster than as UTF-8.
  charset: 'ascii',
  // A third less to read at every start-up, and no comment left that is not
  // ASCII. Names stay, so that a stack trace still says where it was.
  minifyWhitespace: true,
  minifySyntax: true,
  // Bundled ES modules (fdir, under tinyglobby) ask for import.meta; the
  // URL is made only when asked for, as making it costs a millisecond.
  define: { 'import.meta': '__modelrunImportMeta' },
  banner: {
    js: "'use strict'; var __modelrunImportMeta = { get url() { return require('node:url').pathToFileURL(__filename).href; }, filename: __filename, dirname: __dirname };",
  },
};

await build({
  ...commonjs,
  entryPoints: { cli: 'src/cli/process-main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  metafile: true,
  plugins: [vendored, unreachable, noSignalExit, quietDockerModem, noColorSniffing],
});

/**
 * `modelrun --help` (or `-h`) alone prints the program's help and nothing
 * else, so dist/help.cjs holds only what that needs: the same entry and
 * command table as dist/cli.cjs, without the commands, which the table
 * loads only when one runs. A third of cli.cjs's start-up was reading and
 * setting up the code of commands that `--help` never runs.
 */
const withoutCommands = {
  name: 'help-without-commands',
  setup(bundle) {
    bundle.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'not-in-help' } : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: 'not-in-help' }, (args) => ({
      contents: `throw new Error('dist/help.cjs prints the help only; it cannot load ${args.path}');`,
      loader: 'js',
    }));
  },
};

await build({
  ...commonjs,
  entryPoints: { help: 'src/cli/process-main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  metafile: true,
  plugins: [withoutCommands, vendored, unreachable, noSignalExit, noColorSniffing],
});

await build({
  ...commonjs,
  entryPoints: Object.fromEntries(VENDORED.map((name) => [`vendor-${name}`, name])),
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  plugins: [unreachable, noSignalExit, quietDockerModem, lazyHttps, nodeStreams],
});

// The entry, last: it names each bundle's build by a hash of its content,
// which the code cache goes by (src/cli/code-cache.ts).
const builds = Object.fromEntries(
  ['cli', 'help', ...VENDORED.map((name) => `vendor-${name}`)].map((name) => [
    `${name}.cjs`,
    createHash('sha256')
      .update(readFileSync(`dist/${name}.cjs`))
      .digest('hex')
      .slice(0, 16),
  ]),
);
await build({
  ...commonjs,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  define: { ...commonjs.define, MODELRUN_BUNDLE_BUILDS: JSON.stringify(builds) },
  plugins: [unreachable, noSignalExit],
});

await build({
  ...shared,
  // The library (package.json "exports"), the guardian a run starts beside
  // it (src/guardian/client.ts), and the thread that renders templates
  // (src/model/template-renderer.ts). What they share goes into chunks.
  entryPoints: {
    index: 'src/index.ts',
    guardian: 'src/guardian/main.ts',
    'render-worker': 'src/model/render-worker.ts',
  },
  outdir: 'dist',
  splitting: true,
  format: 'esm',
  // The chunks sit in dist/, one folder below the package root, as
  // src/package-info.ts expects of the file it ends up in.
  chunkNames: '[name]-[hash]',
  // The bundled CommonJS packages ask for these; ESM has them under other names.
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  banner: {
    js: "import { createRequire as __modelrunRequire } from 'node:module'; const require = __modelrunRequire(import.meta.url);",
  },
  metafile: true,
  plugins: [unreachable, noSignalExit, quietDockerModem, noColorSniffing],
});
