import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './cli.js';

/**
 * Integration tests run against real engines. Without one they are skipped
 * with a printed reason; in CI, MODELRUN_REQUIRE_ENGINES (such as
 * "docker,slurm") turns that skip into a failure, so a missing engine cannot
 * pass as green.
 */
export function engineRequired(name: string): boolean {
  return (process.env.MODELRUN_REQUIRE_ENGINES ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(name);
}

/** Declares the skip (or, when required, the failure) for an engine that is not there. */
export function reportMissingEngine(name: string, reason: string | undefined): void {
  if (reason === undefined) return;
  if (engineRequired(name)) {
    it(`has a ${name} engine (MODELRUN_REQUIRE_ENGINES)`, () => {
      expect.fail(`${name} is required but unavailable: ${reason}`);
    });
  } else {
    console.warn(`skipping the ${name} integration tests: ${reason}`);
  }
}

/** Why the Docker engine cannot be used here, or undefined when it can. */
export function dockerUnavailable(): string | undefined {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], {
      stdio: 'pipe',
      timeout: 10_000,
    });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    return stderr.split('\n')[0] || (error as Error).message;
  }
}

/** Builds the local test images (busybox, node) unless they exist; see test/images/build.sh. */
export function ensureTestImages(): void {
  execFileSync(join(REPO_ROOT, 'test', 'images', 'build.sh'), { stdio: 'pipe', timeout: 300_000 });
}

/** Why the Slurm controller cannot be used here, or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  try {
    const ping = execFileSync('scontrol', ['ping'], {
      stdio: 'pipe',
      timeout: 15_000,
      encoding: 'utf8',
    });
    return /\bUP\b/.test(ping) ? undefined : `scontrol ping: ${ping.trim()}`;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer | string }).stderr ?? '').trim();
    return stderr.split('\n')[0] || (error as Error).message;
  }
}
