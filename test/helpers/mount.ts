import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Mounts a tmpfs at `dir` with the given options ("size=64k", "ro"), for
 * tests of a full or read-only disk. Returns why it could not (not root, no
 * mount in a container), so the test can skip with that reason.
 */
export function mountTmpfs(dir: string, options: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

let mountable: string | undefined | null = null;

/** Why a tmpfs cannot be mounted here, or undefined when it can: probed once, for skip(). */
export function tmpfsUnavailable(): string | undefined {
  if (mountable !== null) return mountable;
  if (process.getuid?.() !== 0) {
    mountable = 'needs root to mount a tmpfs';
    return mountable;
  }
  const probe = mkdtempSync(join(tmpdir(), 'modelrun-mount-probe-'));
  mountable = mountTmpfs(probe, 'size=64k');
  if (mountable === undefined) unmount(probe);
  rmdirSync(probe);
  return mountable;
}
