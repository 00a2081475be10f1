/**
 * The shape of a row in the hostile-input table (test/hostile-inputs.e2e.test.ts).
 * Each area keeps its rows in test/cases/hostile-<area>.ts as
 * `export const hostileCases: HostileCase[]`; the table runs every row
 * against the built CLI and asserts that no input exits 70, prints a stack
 * without --verbose, hangs, or changes anything outside the run.
 */
export interface HostileCase {
  /** The input, as the test names it: "a model file that is a FIFO". */
  name: string;
  /**
   * Lays the input out and says how to run modelrun on it. `dir` is the
   * case's own empty folder and the command's working directory; `outside`
   * is a folder of files that modelrun must never change (point symlinks
   * there); `home` is the command's $HOME, also watched.
   */
  setup(paths: HostilePaths): Promise<HostileRun> | HostileRun;
  /** A reason to skip the row here (not root, no engine), or undefined to run it. */
  skip?: () => string | undefined;
}

export interface HostilePaths {
  dir: string;
  outside: string;
  home: string;
}

export interface HostileRun {
  /** modelrun's arguments; relative paths are relative to `dir`. */
  args: string[];
  /** Added to the environment; undefined removes a variable. HOME is `home` unless set here. */
  env?: Record<string, string | undefined>;
  /** The exit codes this input may give; default [1, 2]. 70 never passes. */
  exit?: number[];
  /** What stdout or stderr must say: the error that names the file, the field and the fix. */
  says?: string | RegExp;
  /** Paths under `dir` that must be left exactly as they were (the model file, its template). */
  keep?: string[];
  /** Seconds after which the run counts as hung; default 20. */
  timeoutS?: number;
  /** Undoes what setup did outside the temp folders (a mount); runs after the row. */
  teardown?: () => Promise<void> | void;
}
