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

describe('each stream is coloured by where it goes', () => {
  /** What one status line and one result line print, with stdout and stderr each a terminal or a file. */
  function printed(stdoutTTY: boolean, stderrTTY: boolean) {
    const text = { stdout: '', stderr: '' };
    const sink = (name: 'stdout' | 'stderr', isTTY: boolean) => ({
      write: (chunk: string) => (text[name] += chunk),
      isTTY,
    });
    const output = new Output({
      stdout: sink('stdout', stdoutTTY),
      stderr: sink('stderr', stderrTTY),
      env: { TERM: 'xterm' },
      color: true,
      verbose: false,
    });
    output.status('running o1 on local');
    output.maskedInfo(output.stderrStyle.bold('o1'));
    output.result(output.style.bold('Backends'));
    return text;
  }

  it.each([
    ['stderr to a file, stdout to a terminal', true, false],
    ['stdout to a file, stderr to a terminal', false, true],
    ['both to a terminal', true, true],
    ['both to files', false, false],
  ])('%s', (_name, stdoutTTY, stderrTTY) => {
    const text = printed(stdoutTTY, stderrTTY);
    expect(text.stdout.includes(ESC)).toBe(stdoutTTY);
    expect(text.stderr.includes(ESC)).toBe(stderrTTY);
  });
});
