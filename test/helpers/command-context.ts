import { PassThrough } from 'node:stream';
import type { CommandContext } from '../../src/cli/context.js';
import { Output } from '../../src/cli/output.js';
import { Session } from '../../src/run/session.js';

/** A command's context with its output captured: what a test hands a runX() function. */
export function fakeContext(cwd: string, env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  let echoed = '';
  const output = new Output({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    color: false,
    verbose: false,
  });
  const echo = () => new PassThrough().on('data', (chunk: Buffer) => (echoed += chunk));
  const ctx: CommandContext = {
    output,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    cwd,
    session: new Session(),
    terminal: { stdout: echo(), stderr: echo() },
  };
  return { ctx, stdout: () => stdout, stderr: () => stderr, echoed: () => echoed };
}
