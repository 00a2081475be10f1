import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT, VERSION } from '../package-info.js';
import { codeCacheDir, runCachedScript } from './code-cache.js';
import { COMMAND_NAMES } from './command-names.js';

/**
 * The CLI's entry (dist/main.cjs). `modelrun --version` alone is answered
 * here, as commander would answer it, without loading commander and the
 * command table: it is the call scripts and installers make most, and the
 * rest of modelrun is more than half of its start-up. Everything else goes
 * to process-main.ts, bundled as dist/cli.cjs (and, for `--help` alone, as
 * dist/help.cjs without the commands) and run with its compiled code
 * cached; with `--verbose`, Node's own loader runs it, so that stack traces
 * go through the source maps, which a cached script does not get.
 */
/** Each bundle's content hash by file name, which the build writes in (esbuild.config.js). */
declare const MODELRUN_BUNDLE_BUILDS: Record<string, string> | undefined;
const builds = typeof MODELRUN_BUNDLE_BUILDS === 'undefined' ? {} : MODELRUN_BUNDLE_BUILDS;

/** Commander's own help flags, which print the program's help when they come alone. */
const HELP_FLAGS = ['--help', '-h'];

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // As process-main.ts does: a reader that went away (`modelrun --version | true`) is no error.
  // A file or a device that takes nothing (`> /dev/full`, a full disk) is said in a line,
  // with no stack trace; Node writes to a file at once, so such an error is thrown, not emitted.
  const failed = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'EIO') return;
    process.stderr.write(
      `modelrun: cannot write the version to standard output: ${error.message}\n`,
    );
    process.exitCode = 1;
  };
  process.stdout.on('error', failed);
  try {
    process.stdout.write(`${VERSION}\n`);
  } catch (error) {
    failed(error as NodeJS.ErrnoException);
  }
} else {
  // `--help` alone needs the command table, not the commands (esbuild.config.js).
  const bundle = argv.length === 1 && HELP_FLAGS.includes(argv[0] as string) ? 'help' : 'cli';
  const cli = join(PACKAGE_ROOT, 'dist', `${bundle}.cjs`);
  if (process.sourceMapsEnabled || process.env.NODE_DISABLE_COMPILE_CACHE !== undefined)
    createRequire(cli)(cli);
  else {
    const dir = codeCacheDir();
    runCachedScript(cli, dir === undefined ? undefined : { dir, kind: commandKind(argv), builds });
  }
}

/** The command a call runs, as far as a cache needs to know: its first word when a command's, else `help`. */
function commandKind(args: string[]): string {
  const word = args.find((arg) => !arg.startsWith('-'));
  return word !== undefined && COMMAND_NAMES.includes(word) ? word : 'help';
}
