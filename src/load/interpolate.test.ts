import { describe, expect, it } from 'vitest';
import { interpolateString, MAX_DEFAULT_NESTING } from './interpolate.js';

const env = { HOME_DIR: '/home/ada', EMPTY: '', N: '4' };

describe('interpolateString', () => {
  it.each([
    ['${HOME_DIR}/data', '/home/ada/data'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${N:-8}', '4'],
    ['${EMPTY}', ''],
    ['${MISSING:-}', ''],
    ['cost: $ ${N}', 'cost: $ 4'],
    ['$${HOME_DIR}', '${HOME_DIR}'],
    ['$$${HOME_DIR}', '$${HOME_DIR}'],
    ['plain $HOME_DIR and $ sign', 'plain $HOME_DIR and $ sign'],
    ['${N}${N}', '44'],
    ['${MISSING:-a:-b}', 'a:-b'],
    ['${MISSING:-${N}}', '4'],
    ['${MISSING:-${ALSO_MISSING:-deep}}', 'deep'],
    ['${EMPTY:-${HOME_DIR}/x}', '/home/ada/x'],
    ['${MISSING:-a${N}b}-${N}', 'a4b-4'],
    ['${MISSING:-$${N}}', '${N}'],
    // The brace that ends a literal "$${...}" inside a default belongs to the literal.
    ['${N:-$${MISSING}}', '4'],
    ['${MISSING:-a$${N}b}-${N}', 'a${N}b-4'],
    ['${MISSING:-{x}}', '{x}'],
    // As in the shell, a default that is not used is not expanded.
    ['${N:-${MISSING}}', '4'],
  ])('%s → %s', (text, expected) => {
    const result = interpolateString(text, env);
    expect(result.problems).toEqual([]);
    expect(result.value).toBe(expected);
  });

  it.each([
    [
      '${MISSING}',
      'environment variable MISSING is not set; set it, or give a default with ${MISSING:-value}',
    ],
    [
      '${}',
      '"${}" is not a variable reference; write ${NAME} or ${NAME:-default}, or $${ for a literal "${"',
    ],
    [
      '${1X}',
      '"${1X}" is not a variable reference; write ${NAME} or ${NAME:-default}, or $${ for a literal "${"',
    ],
    ['${OPEN', '"${" is not closed; write ${NAME}, or $${ for a literal "${"'],
    [
      '${MISSING:-${ALSO_MISSING}}',
      'environment variable ALSO_MISSING is not set; set it, or give a default with ${ALSO_MISSING:-value}',
    ],
    ['${MISSING:-${OPEN}', '"${" is not closed; write ${NAME}, or $${ for a literal "${"'],
    [
      `${'${A:-'.repeat(MAX_DEFAULT_NESTING + 1)}x${'}'.repeat(MAX_DEFAULT_NESTING + 1)}`,
      `the default of \${A} nests \${...} more than ${MAX_DEFAULT_NESTING} levels deep`,
    ],
  ])('%s is an error', (text, message) => {
    expect(interpolateString(text, env).problems).toEqual([message]);
  });
});

describe('modelrun’s own hand-over variables', () => {
  // A detached run's supervisor has its --set values (secrets among them) in its environment.
  const supervisor = { ...env, MODELRUN_DETACHED_OVERRIDES: '[["--set","a.TOKEN=hunter2"]]' };

  it('reads one as unset, so that a default applies', () => {
    const result = interpolateString('[${MODELRUN_DETACHED_OVERRIDES:-none}]', supervisor);
    expect(result).toMatchObject({ value: '[none]', problems: [] });
  });

  it('refuses one without a default, saying whose it is, and never gives its value', () => {
    const result = interpolateString('${MODELRUN_DETACHED_OVERRIDES}', supervisor);
    expect(result.problems).toEqual([
      "MODELRUN_DETACHED_OVERRIDES is modelrun's own variable, which it hands a modelrun it starts in the background; a config cannot read it",
    ]);
    expect(result.value).not.toContain('hunter2');
  });
});
