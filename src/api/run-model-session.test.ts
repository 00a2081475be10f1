import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { guardiansOf, waitFor } from '../../test/helpers/processes.js';
import { readRunRecord } from '../../test/helpers/run-record.js';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { runModel } from '../index.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('a program that runs many models at once through the library', () => {
  it('has one guardian for all of them, which ends with the last', async () => {
    tree = makeTree();
    const ids = [1, 2, 3].map((n) => `many-${n}-${randomBytes(3).toString('hex')}`);
    const runs = ids.map((runId) =>
      runModel({
        model: { run_id: runId, output_dir: './sims', postprocess: [], command: 'sleep 1' },
        cwd: tree.root,
      }),
    );
    const started = () =>
      ids.every((runId) => readRunRecord(tree.path('sims', runId))?.handle !== undefined);
    expect(await waitFor(started, 10_000)).toBe(true);
    expect(guardiansOf(process.pid)).toHaveLength(1);
    const records = await Promise.all(runs);
    expect(records.map((record) => record.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(await waitFor(() => guardiansOf(process.pid).length === 0, 5000)).toBe(true);
  }, 30_000);
});
