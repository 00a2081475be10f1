import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { engineRequired } from './engines.js';

/**
 * Drive each shell's own completion machinery with modelrun's script, the
 * way a user's TAB does, and return what it offers (one entry per
 * completion, without descriptions).
 */

/** Whether `shell` runs here; without it the caller skips with a printed reason, unless CI requires it. */
export function shellMissing(shell: string): boolean {
  const missing = spawnSync(shell, ['-c', 'exit 0']).error !== undefined;
  if (missing && engineRequired(shell)) expect.fail(`${shell} is required but not installed`);
  if (missing) console.log(`skipping the ${shell} completion checks: ${shell} is not installed`);
  return missing;
}

/** bash: `words` as bash splits them (COMP_WORDBREAKS makes `--format=` three words). */
export function bashCompletes(script: string, words: string[], cwd: string): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const driver = `${script}
complete -p modelrun >/dev/null || exit 9
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}
$(complete -p modelrun | sed -E 's/.*-F ([^ ]+).*/\\1/')
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', driver], { cwd, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** fish: the line typed so far, through `complete -C`. */
export function fishCompletes(script: string, line: string, cwd: string): string[] {
  return withScratch((dir) => {
    const file = join(dir, 'modelrun.fish');
    writeFileSync(file, script);
    const result = spawnSync('fish', ['-c', 'source $argv[1]; complete -C $argv[2]', file, line], {
      cwd,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout
      .split('\n')
      .filter((entry) => entry !== '')
      .map((entry) => entry.split('\t')[0] ?? entry);
  });
}

/**
 * Captures the completions instead of inserting them: compadd is wrapped so
 * each match it accepts (after zsh's own prefix matching and compset) is
 * printed between two NUL lines, then the shell exits. compinit keeps its
 * dump between lines: scanning every completion function again costs a
 * second of CPU per line.
 */
const zshCapture = (dump: string) => `PROMPT=
autoload -Uz compinit
compinit -u -d '${dump}'
bindkey '^I' complete-word
__capture_mark() { echo -E - $'\\0' }
compprefuncs=( __capture_mark )
comppostfuncs=( __capture_mark exit )
zstyle ':completion:*' insert-tab false
compadd() {
  # Calls that only collect matches (-O, -A, -D) are the completion system's own.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local hit
  for hit in $__hits; do echo -E - "$hit"; done
}
`;

/** Starts an interactive zsh on a pty (zpty), types the line and TAB, and reads the captured matches. */
const ZSH_DRIVER = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=(\${(q)1} \\$fpath); source \${(q)2}"
zpty -w z "$3"$'\\t'
local line
integer marks=0
while zpty -r z line; do
  if [[ $line == *$'\\0'* ]]; then
    (( ++marks == 2 )) && break
    continue
  fi
  (( marks == 1 )) && print -r -- "$line"
done
zpty -d z
`;

/**
 * zsh: the line typed so far, through compinit with the script autoloaded as
 * _modelrun. One completer shares its scratch folder and compinit's dump
 * across lines; `close` removes them.
 */
export function zshCompleter(script: string) {
  let dir: string | undefined;
  const scratch = () => {
    if (dir !== undefined) return dir;
    dir = mkdtempSync(join(tmpdir(), 'modelrun-completion-'));
    mkdirSync(join(dir, 'functions'));
    writeFileSync(join(dir, 'functions', '_modelrun'), script);
    writeFileSync(join(dir, 'capture.zsh'), zshCapture(join(dir, 'zcompdump')));
    writeFileSync(join(dir, 'driver.zsh'), ZSH_DRIVER);
    return dir;
  };
  return {
    completes(line: string, cwd: string): string[] {
      const home = scratch();
      const result = spawnSync(
        'zsh',
        ['-f', join(home, 'driver.zsh'), join(home, 'functions'), join(home, 'capture.zsh'), line],
        { cwd, encoding: 'utf8', timeout: 20_000, env: { ...process.env, HOME: home } },
      );
      expect(result.status, result.stderr).toBe(0);
      return result.stdout
        .split(/\r?\n/)
        .map((entry) => entry.replace(/\r$/, ''))
        .filter((entry) => entry !== '');
    },
    close() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

function withScratch<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'modelrun-completion-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
