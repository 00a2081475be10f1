import { describe, expect, it } from 'vitest';
import type { BackendCase } from '../cases/backend-cases.js';

type Verdict = { status: string; errors: { path: string; message: string }[] };

/**
 * Runs a table of config cases through `validate`: each passing case is
 * valid, and each failing one fails at its path with its message.
 */
export function describeRules(
  title: string,
  cases: BackendCase[],
  validate: (yaml: string) => Verdict,
): void {
  describe(title, () => {
    it.each(cases.filter((c) => c.error === undefined))('accepts $name', ({ yaml }) => {
      const result = validate(yaml);
      expect(result.errors).toEqual([]);
      expect(result.status).toBe('valid');
    });

    it.each(cases.filter((c) => c.error !== undefined))('rejects $name', ({ yaml, error }) => {
      const result = validate(yaml);
      expect(result.status).toBe('invalid');
      expect(result.errors.map((e) => e.path)).toContain(error?.path);
      const messages = result.errors.filter((e) => e.path === error?.path).map((e) => e.message);
      const wanted = error?.message ?? '';
      expect(messages).toContainEqual(
        typeof wanted === 'string' ? wanted : expect.stringMatching(wanted),
      );
    });
  });
}
