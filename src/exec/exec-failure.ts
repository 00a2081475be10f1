/**
 * Something in the running of a process that fails the run, with what the
 * user can do about it. exec/ knows nothing of modelrun's error types;
 * `src/errors.ts` presents this as a run failure (exit 1), and the layers
 * above hand it on as a `RunFailedError`.
 */
export class ExecFailure extends Error {
  override readonly name = 'ExecFailure';
  readonly hint: string | undefined;

  constructor(message: string, details: { hint?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }
}
