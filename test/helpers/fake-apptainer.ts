import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The line the fake writes before each invocation's arguments in its log. */
const MARKER = '--- fake-apptainer invocation ---';

/**
 * A stand-in for `apptainer` and `singularity`, at our own process seam: the
 * backend runs it as it would run the real tool. It logs its argv (its own
 * name first, then one argument per line) and imitates the tool:
 *
 *   --version          prints a version
 *   pull DEST REF      writes a small file at DEST, after sleeping FAKE_SLEEP
 *   build DEST DEF     the same, from a definition file
 *   exec … IMAGE /bin/sh -c CMD
 *                      sources the --env-file with `set -a`, then runs CMD
 *                      with /bin/sh in the current directory, so that exit
 *                      codes, output, signals and timeouts are real
 *
 * With FAKE_FAIL set, pull and build leave a partial file at DEST and fail
 * with exit 255 and `FATAL:   $FAKE_FAIL` on stderr, as the real tool does.
 * With FAKE_NO_IMAGE set, pull and build succeed (exit 0) without writing
 * DEST, as a broken wrapper script or a full quota can make the tool do.
 * Like the real tool, pull and build refuse a DEST that exists, and exec
 * refuses an image path that does not.
 */
const SCRIPT = `#!/bin/sh
name=$(basename "$0")
if [ -n "$FAKE_APPTAINER_LOG" ]; then
  { echo '${MARKER}'; echo "$name"; for arg in "$@"; do printf '%s\\n' "$arg"; done; } >> "$FAKE_APPTAINER_LOG"
fi
case "$1" in
  --version)
    echo "$name version 1.3.4-fake"
    ;;
  pull|build)
    dest=$2
    if [ -e "$dest" ]; then
      echo "FATAL:   Image file already exists: \\"$dest\\" - will not overwrite" >&2
      exit 255
    fi
    echo "INFO:    $1 of $3 starting"
    sleep "\${FAKE_SLEEP:-0}"
    if [ -n "$FAKE_FAIL" ]; then
      printf 'half an image' > "$dest"
      echo "FATAL:   $FAKE_FAIL" >&2
      exit 255
    fi
    if [ -n "$FAKE_NO_IMAGE" ]; then
      echo "INFO:    Creating SIF file... done"
      exit 0
    fi
    printf 'fake SIF from %s\\n' "$3" > "$dest"
    echo "INFO:    Creating SIF file... done"
    ;;
  exec)
    shift
    eval "image=\\\${$(($# - 2))}"
    case "$image" in
      docker://*|oras://*|library://*) ;;
      *)
        if [ ! -e "$image" ]; then
          echo "FATAL:   could not open image $image: failed to retrieve path for $image" >&2
          exit 255
        fi
        ;;
    esac
    env_file=
    while [ $# -gt 1 ]; do
      if [ "$1" = --env-file ]; then env_file=$2; shift 2; else shift; fi
    done
    if [ -n "$env_file" ]; then set -a; . "$env_file"; set +a; fi
    exec /bin/sh -c "$1"
    ;;
  *)
    echo "FATAL:   unknown command \\"$1\\" for \\"$name\\"" >&2
    exit 255
    ;;
esac
`;

export interface FakeApptainer {
  /** The folder holding the `apptainer` and `singularity` scripts. */
  binDir: string;
  /** Every invocation so far, in order, each as its argv: the tool's name, then its arguments. */
  log(): string[][];
  /** process.env with the fake first on PATH and its log set, plus `extra`. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  remove(): void;
}

/**
 * Creates the fake tools in a temp folder. Arguments holding a newline show
 * up split over several entries of their invocation in `log()`.
 */
export function makeFakeApptainer(): FakeApptainer {
  const root = mkdtempSync(join(tmpdir(), 'modelrun-fake-apptainer-'));
  const binDir = join(root, 'bin');
  const logFile = join(root, 'invocations.log');
  mkdirSync(binDir);
  for (const name of ['apptainer', 'singularity']) {
    writeFileSync(join(binDir, name), SCRIPT);
    chmodSync(join(binDir, name), 0o755);
  }
  return {
    binDir,
    log() {
      let text: string;
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split(`${MARKER}\n`)
        .slice(1)
        .map((entry) => entry.replace(/\n$/, '').split('\n'));
    },
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${binDir}:${process.env.PATH ?? ''}`,
        FAKE_APPTAINER_LOG: logFile,
      };
      // The fake's switches come from the test alone, never from the shell that runs the suite.
      delete env.FAKE_FAIL;
      delete env.FAKE_SLEEP;
      delete env.FAKE_NO_IMAGE;
      delete env.APPTAINER_CACHEDIR;
      return { ...env, ...extra };
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
