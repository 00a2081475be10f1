import { ConfigError } from '../errors.js';
import { count } from '../plural.js';
import { STDIN_NAME } from './read-source.js';

/** The name messages give the backend a run has without a backend config. */
export const DEFAULT_BACKEND_NAME = 'the default backend (local)';

import type { ValidationResult } from './validate.js';

const CHECKERS: Record<string, string> = {
  'model file': 'modelrun validate',
  'backend config': 'modelrun backends validate',
};

/** The value of a valid file; otherwise a ConfigError that carries every positioned problem. */
export function requireValid<T>(result: ValidationResult<T>, what: string): T {
  if (result.status === 'valid' && result.value !== undefined) return result.value;
  if (result.status === 'missing' && result.file === '') {
    throw new ConfigError(`the ${what} path is empty`, {
      hint: `give the path of the ${what}`,
    });
  }
  if (result.status === 'missing') {
    throw new ConfigError(`${what} ${result.file} does not exist`, { hint: 'check the path' });
  }
  throw new ConfigError(
    `${what} ${result.file} is not valid (${count(result.errors.length, 'error')})`,
    {
      hint:
        result.file === DEFAULT_BACKEND_NAME
          ? 'the run has no backend config: check the --set backend. values and the site config, or give one with --backend-config'
          : CHECKERS[what] === undefined
            ? 'fix the file and run again'
            : `fix the file; \`${CHECKERS[what]} ${result.file === STDIN_NAME ? '-' : result.file}\` checks it`,
      // Its warnings too, as `validate` shows them: they may be part of the fix.
      problems: [
        ...result.errors,
        ...result.warnings.map((w) => ({ ...w, message: `warning: ${w.message}` })),
      ],
    },
  );
}
