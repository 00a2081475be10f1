import type { Session } from '../run/session.js';
import type { Output } from './output.js';

/** What every command's run function is handed besides its options: tests make one with a fake output. */
export interface CommandContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  /** Relative file names are read, and relative outputs written, here. */
  cwd: string;
  /** The run in progress, for SIGINT and SIGTERM. */
  session: Session;
  /** Where a model's output is echoed: the real stdout and stderr. */
  terminal: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
}
