import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../../test/helpers/tree.js';
import { RunFailedError } from '../../errors.js';
import { createRunOutput } from '../../exec/run-output.js';
import type { LocalConfig } from './index.js';
import { createLocalRunner } from './runner.js';

let tree: Tree;
afterEach(() => tree?.remove());

const BIG = 'a'.repeat(200_000);
const PATH = process.env.PATH ?? '';

describe('a local model the system refuses to start', () => {
  it('fails a local run with what to do', { timeout: 5000 }, async () => {
    tree = makeTree();
    const config: LocalConfig = {
      type: 'local',
      command: 'true',
      shell: true,
      capture_output: true,
      stream_output: true,
      env_vars: { BIG },
      timeout: 60,
    };
    const runner = createLocalRunner(
      config,
      { runId: 'r1', stagingDir: tree.root, modelCommand: undefined },
      { env: { PATH }, status: () => {} },
    );
    const handle = await createRunOutput({});
    const run = runner.run(handle.output, new AbortController().signal);
    await expect(run).rejects.toThrow(RunFailedError);
    await expect(run).rejects.toThrow(
      'could not start the model: the command line and environment are too large for the system (E2BIG)',
    );
    await expect(run).rejects.toMatchObject({ hint: expect.stringContaining('into a file') });
    await handle.close();
  });
});
