/** Variable names whose values modelrun never prints or records. */
export const SECRET_NAME_PATTERN = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;

export const MASK = '***';

export function isSecretName(name: string): boolean {
  return SECRET_NAME_PATTERN.test(name);
}

/** A copy of an environment map with secret values replaced by `***`. */
export function maskEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, isSecretName(name) ? MASK : value]),
  );
}

/** Maps in a config whose values are masked by name: the environment and Docker build args. */
const MASKED_MAPS = ['env_vars', 'build_args'];

/** A copy of a config with the values of secret-named variables masked, for printing and run.json. */
export function maskConfig<T extends Record<string, unknown>>(config: T): T {
  const copy: Record<string, unknown> = { ...config };
  for (const key of MASKED_MAPS) {
    const map = copy[key];
    if (map !== null && typeof map === 'object') copy[key] = maskEnv(map as Record<string, string>);
  }
  return copy as T;
}

/**
 * Replaces known secret values wherever they turn up in text modelrun
 * prints or records: a `${API_TOKEN}` interpolated into a command line must
 * not reappear in a dry run, run.json or an error message.
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Takes the values of every secret-named variable in `env`. */
  addEnv(env: Record<string, string | undefined>): this {
    for (const [name, value] of Object.entries(env)) {
      // Very short values would mask ordinary words and numbers.
      if (isSecretName(name) && value !== undefined && value.length >= 4) this.values.add(value);
    }
    return this;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length))
      out = out.split(value).join(MASK);
    return out;
  }

  /** A deep copy of JSON-like data with every string redacted. */
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
