import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { visibleName } from '../exec/visible-name.js';
import { ENSEMBLE_RECORD, readEnsembleRecord } from '../model/ensemble-record.js';
import { openSupervisorLog, supervisorLogFolder } from '../runs/supervisor-log.js';
import type { CommandContext } from './context.js';
import type { FoundEnsemble } from './ensemble-live.js';
import { printLog } from './log-print.js';

/** How often `logs -f` looks at the record for the ensemble's end. */
const POLL_MS = 500;

/**
 * The ensemble's own log (that of a detached ensemble's modelrun), printed
 * or followed. ensemble.json names it, but a member can rewrite that file:
 * only a log modelrun made in this user's state folder is read.
 */
export async function ensembleLogs(
  found: FoundEnsemble,
  how: { follow: boolean; tail: number | undefined; json: boolean },
  ctx: CommandContext,
): Promise<number> {
  const { record } = found;
  const file =
    record.log === undefined
      ? undefined
      : await openSupervisorLog(ctx.env, record.log, record.ensemble_id);
  if (file === 'refused')
    throw new RunFailedError(
      `${visibleName(join(found.dir, ENSEMBLE_RECORD))}'s field \`log\` names ${visibleName(record.log as string)}, which is no log modelrun keeps: an ensemble's log is read only from ${supervisorLogFolder(ctx.env)}, where --detach puts it`,
      {
        hint: 'a member may have rewritten ensemble.json; read the log as the user who started the ensemble, on the host it started on, or open the file yourself',
      },
    );
  if (file === 'missing') {
    ctx.output.error(
      `ensemble ${record.ensemble_id}'s log (${visibleName(record.log as string)}) is not there any more`,
      `it was removed, or is not a file; each member's output is in its run dir: \`modelrun logs ${join(found.dir, record.members[0]?.run_id ?? '<run id>')}\``,
    );
    return 1;
  }
  if (file === undefined) {
    ctx.output.error(
      `ensemble ${record.ensemble_id} has no log of its own`,
      `only an ensemble run with --detach keeps one; each member's output is in its run dir: \`modelrun logs ${join(found.dir, record.members[0]?.run_id ?? '<run id>')}\``,
    );
    return 1;
  }
  try {
    await printLog(
      file,
      { ensemble_dir: found.dir, ensemble_id: record.ensemble_id, path: record.log as string },
      {
        tail: how.tail,
        json: how.json,
        ...(how.follow
          ? {
              follow: {
                ended: async () => (await readEnsembleRecord(found.dir))?.status !== 'running',
                pollMs: POLL_MS,
                signal: ctx.session.signal,
              },
            }
          : {}),
      },
      ctx,
    );
  } finally {
    await file.close();
  }
  return 0;
}
