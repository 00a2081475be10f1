import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../../../test/helpers/tree.js';
import { envFilePath, envFileText } from './apptainer-env.js';

const tree = makeTree({});
afterAll(() => tree.remove());

describe('envFilePath', () => {
  it("is under the staging dir's .modelrun folder", () => {
    expect(envFilePath('/runs/r1')).toBe('/runs/r1/.modelrun/apptainer.env');
  });
});

describe('envFileText', () => {
  /** What `sh` makes of the file: sourced with `set -a`, as the container's runtime does, then read back from the environment. */
  function sourced(env: Record<string, string>, name: string): string {
    const file = tree.write('env/file.env', envFileText(env));
    const out = execFileSync(
      '/bin/sh',
      ['-c', 'set -a; . "$1"; exec printenv "$2"', 'sh', file, name],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/nobody' },
      },
    ).toString();
    // printenv ends the value with one newline of its own.
    return out.slice(0, -1);
  }

  it.each<{ name: string; value: string }>([
    { name: 'a plain word', value: 'hindcast' },
    { name: 'spaces', value: '  two  words  ' },
    { name: 'a single quote', value: "it's" },
    { name: 'several single quotes', value: "'''a'b'" },
    { name: 'double quotes', value: 'say "hi"' },
    { name: 'dollar signs', value: '$HOME ${HOME} $(id) $1 $' },
    { name: 'backticks', value: '`id`' },
    { name: 'backslashes', value: 'C:\\temp\\new \\\\ \\n \\' },
    { name: 'newlines', value: 'line one\nline two\n' },
    { name: 'glob characters', value: '* ? [a-z]' },
    { name: 'shell operators', value: 'a; b && c | d > e # f' },
    { name: 'an equals sign', value: 'a=b=c' },
    { name: 'non-ASCII text', value: 'Zürich – 東京' },
  ])('keeps a value with $name as written', ({ value }) => {
    expect(sourced({ VALUE: value }, 'VALUE')).toBe(value);
  });

  it('keeps an empty value, set', () => {
    const file = tree.write('env/empty.env', envFileText({ EMPTY: '' }));
    const out = execFileSync('/bin/sh', [
      '-c',
      'set -a; . "$1"; printf "%s" "${EMPTY-unset}"',
      'sh',
      file,
    ]).toString();
    expect(out).toBe('');
  });

  it('gives every variable of the map, one line each', () => {
    const env = { PYTHONNOUSERSITE: '1', A: "x'y", B: 'two\nlines' };
    expect(envFileText(env)).toBe("PYTHONNOUSERSITE='1'\nA='x'\\''y'\nB='two\nlines'\n");
    for (const [name, value] of Object.entries(env)) expect(sourced(env, name)).toBe(value);
  });

  it('is empty for no variables', () => {
    expect(envFileText({})).toBe('');
  });
});
