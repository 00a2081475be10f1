import { visibleName } from '../exec/visible-name.js';
import { cancelRun } from '../runs/cancel.js';
import { locateRun } from '../runs/locate.js';
import type { CancelOptions } from './command-options.js';
import type { CommandContext } from './context.js';
import { ensembleAt, ensembleCancel } from './ensemble-runs.js';

/** Stops a run from any shell; a run that had ended is said to have, with exit code 0 too. */
export async function runCancel(options: CancelOptions, ctx: CommandContext): Promise<number> {
  const { output, env, cwd } = ctx;
  const ensemble = await ensembleAt(options.run, cwd, ctx.env);
  if (ensemble !== undefined) return ensembleCancel(ensemble, options.json, ctx);
  const found = await locateRun(options.run, { cwd, env });
  const result = await cancelRun(found, { env, status: (line) => output.status(line) });
  if (options.json) {
    output.maskedRaw(`${JSON.stringify({ run_dir: found.dir, ...result }, null, 2)}\n`);
    return 0;
  }
  const { record } = result;
  output.maskedResult(
    visibleName(
      result.outcome === 'cancelled'
        ? `cancelled ${record.run_id}: ${result.how}`
        : `${record.run_id} had already ended: ${record.status}${record.reason === undefined ? '' : ` (${record.reason})`}`,
    ),
  );
  return 0;
}
