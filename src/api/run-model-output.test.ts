import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { runModel } from '../index.js';

let tree: Tree;
afterEach(() => tree?.remove());

const SIZE = 200_000;

/** A model that prints SIZE bytes of x to stdout, then runs for `then`. */
function printingModel(runId: string, then = 'true') {
  return {
    run_id: runId,
    output_dir: './sims',
    postprocess: [],
    command: `head -c ${SIZE} /dev/zero | tr '\\0' x; ${then}`,
  };
}

describe('runModel with a stdout stream read only after the run', () => {
  it('resolves, with the logs complete, says through onWarning what was not taken, and the stream then holds the output', async () => {
    tree = makeTree();
    const runId = `collect-${randomBytes(4).toString('hex')}`;
    const stdout = new PassThrough();
    const warnings: string[] = [];
    const onWarning = (w: { message: string }) => warnings.push(w.message);
    const record = await runModel({
      model: printingModel(runId),
      cwd: tree.root,
      stdout,
      onWarning,
    });
    expect(record.status).toBe('succeeded');
    // The caller may never read it, as a pipe's reader may never: it hears how much it had not taken.
    const log = tree.path('sims', runId, 'logs', 'stdout.log');
    // How much of it still sat in the stream's own buffer depends on Node's buffering: count a bound.
    expect(warnings).toHaveLength(1);
    const notShown =
      /^modelrun: stdout's reader fell behind; (\d+) bytes not shown; all of it is in (.*)$/.exec(
        warnings[0] ?? '',
      );
    expect(notShown?.[2]).toBe(log);
    expect(Number(notShown?.[1])).toBeGreaterThan(0);
    expect(Number(notShown?.[1])).toBeLessThanOrEqual(SIZE);
    expect(readFileSync(tree.path('sims', runId, 'logs', 'stdout.log'), 'utf8')).toBe(
      'x'.repeat(SIZE),
    );
    stdout.end();
    expect(Buffer.concat(await stdout.toArray()).toString()).toBe('x'.repeat(SIZE));
  }, 30_000);

  it('settles as cancelled soon after its signal is aborted', async () => {
    tree = makeTree();
    const runId = `abort-${randomBytes(4).toString('hex')}`;
    const controller = new AbortController();
    const running = runModel({
      model: printingModel(runId, 'sleep 60'),
      cwd: tree.root,
      stdout: new PassThrough(),
      signal: controller.signal,
    });
    const log = tree.path('sims', runId, 'logs', 'stdout.log');
    const logged = () => statSync(log, { throwIfNoEntry: false })?.size ?? 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && logged() < SIZE) await sleep(50);
    expect(logged()).toBe(SIZE);
    const aborted = Date.now();
    controller.abort();
    const record = await Promise.race([running, sleep(8000, undefined)]);
    expect(record?.status).toBe('cancelled');
    expect(Date.now() - aborted).toBeLessThan(8000);
  }, 40_000);
});
