import { undoHandler } from '../../exec/guard.js';
import type { SecretFileTask } from './env-file.js';

/** The env files of the backends that start containers, removed by the guardian after a crash. */
export const secretFileUndo = undoHandler<SecretFileTask>(
  'secret-file',
  'secret-file',
  () =>
    import('./env-file.js').then(
      (m) =>
        (task: SecretFileTask, { diedAt }: { diedAt: number }) =>
          m.removeAbandonedEnvFile(task, diedAt),
    ),
  (task) => `the env file ${task.path} (rm ${task.path})`,
);
