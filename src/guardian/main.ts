// The guardian: a process of its own that undoes what a run started when
// modelrun dies before it could (see client.ts). It reads JSON lines on
// stdin; at "done" it exits, and when stdin closes without one, it undoes
// every task still registered.
import { createInterface } from 'node:readline';
import type { UndoContext, UndoStage } from '../exec/guard.js';
import type { GuardMessage, GuardTask } from './tasks.js';

const tasks = new Map<number, GuardTask>();
let done = false;
let interrupted: string | undefined;

// Signals meant for modelrun (its terminal, its process group) are not ours.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on('line', (line) => {
  let message: GuardMessage;
  try {
    message = JSON.parse(line) as GuardMessage;
  } catch {
    return;
  }
  if (message.op === 'add') tasks.set(message.key, message.task);
  else if (message.op === 'remove') tasks.delete(message.key);
  else if (message.op === 'interrupted') interrupted = message.signal;
  else done = true;
});
lines.on('close', () => {
  if (done) process.exit(0);
  void undoAll(Date.now()).then(() => process.exit(0));
});

/**
 * Stops what runs first; only then says so in the run records. The env
 * files and then the staging locks go last, and only when everything was
 * stopped: a job that could not be cancelled may still start and read its
 * secrets, and a run that starts into the same staging dir must find
 * nothing of the dead one still at work.
 */
async function undoAll(diedAt: number): Promise<void> {
  const all = [...tasks.values()];
  if (all.length === 0) return;
  const { undoHandlers } = await import('./handlers.js');
  const handlers = await undoHandlers(all.map((task) => task.kind));
  const context: UndoContext = {
    diedAt,
    env: process.env,
    ...(interrupted === undefined ? {} : { interrupted }),
  };
  const undoEach = (stage: UndoStage | 'run-record' | 'staging-lock') =>
    Promise.allSettled(
      all.flatMap((task) => {
        const handler = handlers.get(task.kind);
        return handler?.stage === stage ? [handler.undo(task, context)] : [];
      }),
    );
  const stopped = await undoEach('stop');
  await undoEach('ensemble-record');
  await undoEach('run-record');
  if (stopped.some((outcome) => outcome.status === 'rejected')) return;
  await undoEach('secret-file');
  await undoEach('staging-lock');
}
