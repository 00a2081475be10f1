import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { RunFailedError } from '../errors.js';
import { archiveEarlierRun } from './run-history.js';

let tree: Tree | undefined;
afterEach(() => tree?.remove());

const EARLIER = '{"run_id":"r1","started_at":"2026-01-01T00:00:00.000Z"}\n';

describe("an earlier run's record and logs", () => {
  it('move into .modelrun/history', async () => {
    tree = makeTree({ '.modelrun/run.json': EARLIER, 'logs/stdout.log': 'old\n' });
    const folder = await archiveEarlierRun(tree.root, true);
    expect(folder).toMatch(/\.modelrun\/history\/2026-01-01T00-00-00\.000Z-[0-9a-f]{6}$/);
    expect(readdirSync(folder ?? '').sort()).toEqual(['logs', 'run.json']);
  });

  it('are not moved through a history symlink out of the run', async () => {
    tree = makeTree({
      '.modelrun/run.json': EARLIER,
      'logs/stdout.log': 'old\n',
      'elsewhere/': '',
    });
    symlinkSync(tree.path('elsewhere'), tree.path('.modelrun', 'history'));
    const error = await archiveEarlierRun(tree.root, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/history is a symlink/);
    expect(readdirSync(tree.path('elsewhere'))).toEqual([]);
    expect(existsSync(tree.path('.modelrun', 'run.json'))).toBe(true);
  });

  it('are not moved into a history that is a file', async () => {
    tree = makeTree({ '.modelrun/run.json': EARLIER, '.modelrun/history': 'x' });
    mkdirSync(tree.path('logs'));
    await expect(archiveEarlierRun(tree.root, true)).rejects.toThrow(/history is not a folder/);
  });
});
