import { describe, expect, it } from 'vitest';
import { MASK, MIN_MASKED_VALUE_LENGTH, maskSecretKeys, Redactor } from './secrets.js';

describe('masking by key', () => {
  it('masks the value under every secret-named key, at any depth and whatever it is', () => {
    const config = {
      type: 'local',
      env_vars: { API_TOKEN: 'running', DB_PASSWORD: '', MODE: 'fast' },
      build_args: { NPM_KEY: 'x' },
      registry: { auth: { password: 7, user: 'me' } },
      list: [{ aws_secret_key: true }],
    };
    expect(maskSecretKeys(config)).toEqual({
      type: 'local',
      env_vars: { API_TOKEN: MASK, DB_PASSWORD: MASK, MODE: 'fast' },
      build_args: { NPM_KEY: MASK },
      registry: { auth: { password: MASK, user: 'me' } },
      list: [{ aws_secret_key: MASK }],
    });
    // A copy: the config the run uses keeps its real values.
    expect(config.env_vars.API_TOKEN).toBe('running');
  });
});

describe('masking free text by value', () => {
  it(`masks only values of at least ${MIN_MASKED_VALUE_LENGTH} characters`, () => {
    const redactor = new Redactor().addEnv({
      SHORT_TOKEN: 'running',
      ONE_KEY: 'x',
      EMPTY_SECRET: '',
      LONG_TOKEN: 'tok-5f0c9e21',
      HOME: '/home/someone-long',
    });
    expect(redactor.redact('running with tok-5f0c9e21 as x in /home/someone-long')).toBe(
      `running with ${MASK} as x in /home/someone-long`,
    );
  });

  it('learns the values under secret-named keys anywhere in a config', () => {
    const redactor = new Redactor().addSecretsOf([
      { type: 'command', env_vars: { PLOT_TOKEN: 'plot-secret-1' } },
      { nested: { auth: { PASSWORD: 12345678 } } },
    ]);
    expect(redactor.redact('plot-secret-1 and 12345678')).toBe(`${MASK} and ${MASK}`);
  });

  it('masks a secret that contains another whole', () => {
    const redactor = new Redactor().addEnv({ A_KEY: 'abcdefgh', B_KEY: 'abcdefgh-ijkl' });
    expect(redactor.redact('abcdefgh-ijkl abcdefgh')).toBe(`${MASK} ${MASK}`);
  });
});
