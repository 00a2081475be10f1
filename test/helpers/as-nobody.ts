/**
 * Runs `work` with the effective user and group of `nobody`, so that
 * permission checks apply as they do to a user; as root they never deny.
 * Only the effective ids change, so root takes them back afterwards. Returns
 * a reason to skip instead when the test process is not root.
 */
export const NOBODY = 65534;

export function cannotBecomeNobody(): string | undefined {
  if (process.geteuid?.() !== 0) return 'permission checks need root to switch to nobody';
  return undefined;
}

export async function asNobody<T>(work: () => Promise<T>): Promise<T> {
  process.setegid?.(NOBODY);
  process.seteuid?.(NOBODY);
  try {
    return await work();
  } finally {
    process.seteuid?.(0);
    process.setegid?.(0);
  }
}
