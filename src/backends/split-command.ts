import { parse } from 'shell-quote';
import { ConfigError } from '../errors.js';

/**
 * Splits a command into argv the way a shell would quote it, for
 * `shell: false`: quotes and backslashes group words, and nothing is
 * expanded: `$HOME` and `*.txt` reach the program as written. Pipes,
 * redirections and `&&` need a shell, so they are an error here.
 */
export function splitCommand(command: string): string[] {
  // Returning the reference itself keeps `$VAR` literal instead of expanding it.
  const tokens = parse(command, (name) => `$${name}`);
  const argv: string[] = [];
  for (const token of tokens) {
    if (typeof token === 'string') argv.push(token);
    else if ('op' in token && token.op === 'glob') argv.push(token.pattern);
    else if ('comment' in token) break;
    else {
      throw new ConfigError(
        `the command uses the shell operator "${'op' in token ? token.op : '?'}", but shell is false`,
        {
          hint: 'set `shell: true` to run it through /bin/sh, or remove the operator',
        },
      );
    }
  }
  if (argv.length === 0)
    throw new ConfigError('the command is empty', { hint: 'set a command to run' });
  return argv;
}
