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
