import { describe, expect, it } from 'vitest';
import { Output } from './output.js';

const ESC = String.fromCharCode(27);

/** What Output prints for one warning to a terminal, with `env`. */
function warningOn(env: NodeJS.ProcessEnv): string {
  let text = '';
  const terminal = { write: (chunk: string) => (text += chunk), isTTY: true };
  new Output({ stdout: terminal, stderr: terminal, env, color: true, verbose: false }).warn('w');
  return text;
}

describe('colour', () => {
  it.each([
    ['TERM=dumb', { TERM: 'dumb' }, false],
    ['NO_COLOR', { TERM: 'xterm', NO_COLOR: '1' }, false],
    ['NO_COLOR over FORCE_COLOR', { NO_COLOR: '1', FORCE_COLOR: '1' }, false],
    ['FORCE_COLOR over TERM=dumb', { TERM: 'dumb', FORCE_COLOR: '1' }, true],
    ['a terminal', { TERM: 'xterm-256color' }, true],
  ])('%s: coloured %s', (_name, env, coloured) => {
    expect(warningOn(env).includes(ESC)).toBe(coloured);
  });
});
