import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'modelrun.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `modelrun` as a user would, without colour unless the env asks for it. */
export function runModelrun(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; asNobody?: boolean } = {},
): Promise<CliResult> {
  const [command, ...prefix] = options.asNobody
    ? [...AS_NOBODY, process.execPath]
    : [process.execPath];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, [...prefix, BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a program as the user nobody, for whom permission checks apply; as root they never deny. */
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
let nobodyProbe: string | undefined | null = null;

/**
 * Why `runModelrun(..., { asNobody: true })` cannot work here (not root, no
 * setpriv), or undefined when it can; probed once, for a skip with a reason.
 */
export function nobodyUnavailable(): string | undefined {
  if (nobodyProbe !== null) return nobodyProbe;
  if (process.getuid?.() !== 0) nobodyProbe = 'not root, so modelrun cannot be run as nobody';
  else {
    const probe = spawnSync(AS_NOBODY[0] as string, [...AS_NOBODY.slice(1), 'true']);
    nobodyProbe =
      probe.status === 0
        ? undefined
        : `setpriv cannot run a command as nobody: ${probe.error?.message ?? probe.stderr}`;
  }
  return nobodyProbe;
}

/**
 * Runs the CLI in this process, through the same entry function the built
 * binary calls, for table-driven cases where a process per case would only
 * add start-up time. Process-level behaviour (exit, signals) needs runModelrun.
 */
export async function runInProcess(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const { runCli } = await import('../../src/cli/run-cli.js');
  const { PassThrough } = await import('node:stream');
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk));
  const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await runCli(args, {
    stdout: out,
    stderr: err,
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  return { code, stdout, stderr };
}

/**
 * Starts the built CLI and waits, for at most `waitMs` (10 s), until the
 * model has printed `marker`, so a test can interrupt a run that is really
 * under way.
 */
export async function startModelrun(
  args: string[],
  options: {
    cwd: string;
    marker?: string;
    waitMs?: number;
    markerOn?: 'stdout' | 'stderr';
    env?: NodeJS.ProcessEnv;
  },
) {
  const { setTimeout: sleep } = await import('node:timers/promises');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const marker = options.marker ?? 'started';
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  const seen = () => (options.markerOn === 'stderr' ? stderr : stdout).includes(marker);
  while (Date.now() < deadline && !seen()) await sleep(25);
  return { child, exited, output: () => ({ stdout, stderr }) };
}
