/** Variable names whose values modelrun never prints or records. */
export const SECRET_NAME_PATTERN = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;

export const MASK = '***';

/**
 * The shortest secret value masked wherever it turns up in free text. A
 * shorter one (`running`, `local`, `0`) would also mask ordinary words,
 * numbers and modelrun's own messages; it is still masked by its key.
 */
export const MIN_MASKED_VALUE_LENGTH = 8;

export function isSecretName(name: string): boolean {
  return SECRET_NAME_PATTERN.test(name);
}

/** A copy of an environment map with secret values replaced by `***`. */
export function maskEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, isSecretName(name) ? MASK : value]),
  );
}

/**
 * A deep copy of JSON-like data in which the value under every secret-named
 * key, at any depth, reads `***`: env_vars, build_args, a password nested
 * in a config. Whatever the value is, so a short or empty secret is masked too.
 */
export function maskSecretKeys<T>(data: T): T {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, v]) => [key, isSecretName(key) ? MASK : walk(v)]),
      );
    }
    return value;
  };
  return walk(data) as T;
}

/**
 * Replaces known secret values wherever they turn up in free text modelrun
 * prints or records (error messages, reasons, stderr tails, command lines):
 * a `${API_TOKEN}` interpolated into a command line must not reappear in a
 * dry run, run.json or an error message. Only values of at least
 * MIN_MASKED_VALUE_LENGTH characters; never apply it to modelrun's own
 * fields (status, paths, ids), which a secret's value may happen to equal.
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Takes the values of every secret-named variable in `env`. */
  addEnv(env: Record<string, string | undefined>): this {
    return this.addSecretsOf(env);
  }

  /** Takes the string values under every secret-named key in JSON-like data, at any depth. */
  addSecretsOf(data: unknown): this {
    const take = (value: unknown): void => {
      if (typeof value === 'string' && value.length >= MIN_MASKED_VALUE_LENGTH)
        this.values.add(value);
      else if (typeof value === 'number' && String(value).length >= MIN_MASKED_VALUE_LENGTH)
        this.values.add(String(value));
    };
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) for (const item of value) walk(item);
      else if (value !== null && typeof value === 'object') {
        for (const [key, v] of Object.entries(value)) {
          if (isSecretName(key)) take(v);
          else walk(v);
        }
      }
    };
    walk(data);
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length))
      out = out.split(value).join(MASK);
    return out;
  }

  /** A deep copy of JSON-like free text with every string redacted; keys are left as they are. */
  redactData<T>(data: T): T {
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') return this.redact(value);
      if (Array.isArray(value)) return value.map(walk);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, walk(v)]));
      }
      return value;
    };
    return walk(data) as T;
  }
}
