import { describe, expect, it } from 'vitest';
import {
  BUG_EXIT_CODE,
  ConfigError,
  EngineUnavailableError,
  RunFailedError,
  UsageError,
} from '../errors.js';
import { Output } from './output.js';
import { presentError } from './present-error.js';

function capture(verbose: boolean) {
  let stderr = '';
  const sink = { write: (text: string) => (stderr += text) };
  const output = new Output({ stdout: sink, stderr: sink, env: {}, color: false, verbose });
  return { output, text: () => stderr };
}

describe('presentError', () => {
  it.each([
    [new ConfigError('bad config', { hint: 'fix line 3' }), 2],
    [new UsageError('no such file'), 2],
    [new EngineUnavailableError('no engine', { hint: 'is dockerd running?' }), 1],
    [new RunFailedError('model exited 3'), 1],
    [new RunFailedError('interrupted', { exitCode: 130 }), 130],
  ])('prints %s with its hint and returns %i', (error, code) => {
    const { output, text } = capture(false);
    expect(presentError(error, output)).toBe(code);
    expect(text()).toMatch(new RegExp(`^error: ${error.message}\\n`));
    if (error.hint !== undefined) expect(text()).toContain(`  hint: ${error.hint}\n`);
  });

  it('calls anything else a bug, with the stack only under --verbose', () => {
    const quiet = capture(false);
    expect(presentError(new TypeError('x is undefined'), quiet.output)).toBe(BUG_EXIT_CODE);
    expect(quiet.text()).toContain('error: modelrun hit an unexpected error: x is undefined');
    expect(quiet.text()).toContain('run with --verbose');
    expect(quiet.text()).not.toContain('at ');

    const verbose = capture(true);
    presentError(new TypeError('x is undefined'), verbose.output);
    expect(verbose.text()).toMatch(/TypeError: x is undefined\n\s+at /);
  });
});
