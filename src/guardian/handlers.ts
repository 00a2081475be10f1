import {
  type GuardTaskBase,
  processGroupUndo,
  type UndoContext,
  type UndoHandler,
  undoHandler,
} from '../exec/guard.js';
import type { CoreGuardTask } from './tasks.js';

/**
 * What a record left running says once the guardian has stopped what it
 * started: cancelled, when modelrun told it that it was forced out by an
 * interrupt; failed otherwise, as after a crash or a kill.
 */
function howItEnded(
  { interrupted }: UndoContext,
  ended: string,
  started: string,
): { reason: string; status: 'failed' | 'cancelled' } {
  return interrupted === undefined
    ? {
        reason: `modelrun ended before ${ended} (killed?); its guardian stopped what ${started}`,
        status: 'failed',
      }
    : {
        reason: `interrupted (${interrupted}): modelrun exited before its cleanup ended, and its guardian stopped what ${started}`,
        status: 'cancelled',
      };
}

type Handlers<Task extends GuardTaskBase> = {
  readonly [Kind in Task['kind']]: UndoHandler<Extract<Task, { kind: Kind }>>;
};

/**
 * The guardian's own kinds, which every run hands it whatever its backend;
 * a core kind without a handler here fails to compile. A backend's kinds
 * cannot lack one: its runs' guard takes only the kinds its definition undoes.
 */
export const coreUndoHandlers = {
  'run-record': undoHandler(
    'run-record',
    'run-record',
    async () => {
      const { failUnfinishedRecord } = await import('../model/run-record.js');
      return (task, context) => {
        const { reason, status } = howItEnded(context, 'the run did', 'the run had started');
        return failUnfinishedRecord(task.path, reason, status);
      };
    },
    (task) => `the run record ${task.path}, still running`,
  ),
  'ensemble-record': undoHandler(
    'ensemble-record',
    'ensemble-record',
    async () => {
      const { failUnfinishedEnsemble } = await import('../model/ensemble-record.js');
      return (task, context) => {
        const { reason, status } = howItEnded(
          context,
          'the ensemble did',
          'the members had started',
        );
        return failUnfinishedEnsemble(task.dir, reason, status);
      };
    },
    (task) => `the ensemble record in ${task.dir}, still running`,
  ),
  'staging-lock': undoHandler(
    'staging-lock',
    'staging-lock',
    async () => {
      const { releaseAbandonedLock } = await import('../model/staging-lock-files.js');
      return (task, { diedAt }) => releaseAbandonedLock(task.stagingDir, diedAt, task.pid);
    },
    (task) => `the lock on ${task.stagingDir}`,
  ),
} satisfies Handlers<CoreGuardTask>;

/**
 * The handlers for `kinds`: the guardian's own, and those the backends'
 * definitions declare. Process groups are the exec layer's, and not only a
 * backend's (a command postprocessor's too): known without the registry,
 * which loads every backend's schema, and so is loaded only for the kinds
 * that need it, once modelrun has died with such a task left to undo.
 */
export async function undoHandlers(
  kinds: Iterable<string>,
): Promise<Map<string, UndoHandler<GuardTaskBase>>> {
  const handlers = new Map<string, UndoHandler<GuardTaskBase>>(
    [...Object.values(coreUndoHandlers), processGroupUndo].map((h) => [h.kind, h]),
  );
  if ([...kinds].every((kind) => handlers.has(kind))) return handlers;
  const { backendRegistry } = await import('../backends/registry.js');
  for (const handler of backendRegistry.flatMap((backend) => backend.undo))
    if (!handlers.has(handler.kind)) handlers.set(handler.kind, handler);
  return handlers;
}
