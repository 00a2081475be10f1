import { ConfigError } from '../errors.js';
import type { ValidationResult } from './validate.js';

/** The value of a valid file; otherwise a ConfigError that carries every positioned problem. */
export function requireValid<T>(result: ValidationResult<T>, what: string): T {
  if (result.status === 'valid' && result.value !== undefined) return result.value;
  if (result.status === 'missing') {
    throw new ConfigError(`${what} ${result.file} does not exist`, { hint: 'check the path' });
  }
  const count = result.errors.length;
  throw new ConfigError(
    `${what} ${result.file} is not valid (${count} error${count === 1 ? '' : 's'})`,
    {
      hint: `fix the file; \`modelrun ${what === 'backend config' ? 'backends validate' : 'validate'} ${result.file}\` checks it`,
      problems: result.errors,
    },
  );
}
