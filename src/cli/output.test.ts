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

describe("deceptive characters in modelrun's own lines", () => {
  it('escapes bidi controls and zero-width spaces in every kind of line, and leaves machine output alone', () => {
    let text = '';
    const sink = { write: (chunk: string) => (text += chunk) };
    const output = new Output({ stdout: sink, stderr: sink, env: {}, color: false, verbose: true });
    const name = 'evil\u202etxt.sh \u2066x\u2069 a\u200bb \u061c \ufeff';
    output.result(name);
    output.maskedResult(name);
    output.info(name);
    output.maskedInfo(name);
    output.status(name);
    output.warn(name);
    output.error(name, name);
    output.debug(name);
    expect(text).not.toMatch(/[\u061c\u200b\u202e\u2066\u2069\ufeff]/u);
    expect(text.split('evil\\u202etxt.sh \\u2066x\\u2069 a\\u200bb \\u061c \\ufeff')).toHaveLength(
      10,
    );
    text = '';
    output.raw(name);
    output.maskedRaw(name);
    expect(text).toBe(name + name);
  });

  it('leaves joiners, tag characters and soft hyphens as they are', () => {
    let text = '';
    const sink = { write: (chunk: string) => (text += chunk) };
    const output = new Output({
      stdout: sink,
      stderr: sink,
      env: {},
      color: false,
      verbose: false,
    });
    const name = '\u{1f468}\u200d\u{1f469} \u0645\u06cc\u200c\u062e hydro\u00adlogy';
    output.info(name);
    expect(text).toBe(`${name}\n`);
  });
});
