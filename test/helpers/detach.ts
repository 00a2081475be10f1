import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

/**
 * `modelrun run ARGS --detach` (or `ensemble`) as a shell would start it, in a session of
 * its own; once it has exited, its session is hung up on (SIGHUP to its
 * process group), as when the SSH session that started it closes. Gives its
 * exit code and output, and whether anything of its group was left to hang up on.
 */
export async function detachAndHangUp(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; command?: 'run' | 'ensemble' },
): Promise<{ code: number | null; stdout: string; stderr: string; leftBehind: boolean }> {
  const child = spawn(process.execPath, [BIN, options.command ?? 'run', ...args, '--detach'], {
    cwd: options.cwd,
    detached: true,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  let leftBehind = true;
  try {
    process.kill(-(child.pid ?? 0), 'SIGHUP');
  } catch (error) {
    leftBehind = (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return { code, stdout, stderr, leftBehind };
}
