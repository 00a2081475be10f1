import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { commandPostprocessor } from './command.js';
import type { PostprocessContext, PostprocessorConfig } from './types.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('the command postprocessor', () => {
  // On the old code this waited forever for a process that never started.
  it('fails at once when the environment is too large to start the command', {
    timeout: 5000,
  }, async () => {
    tree = makeTree();
    const config = {
      type: 'command',
      stop_on_error: true,
      command: 'true',
      timeout: 60,
      env_vars: { BIG: 'a'.repeat(200_000) },
    } as PostprocessorConfig;
    const context: PostprocessContext = {
      runId: 'r1',
      stagingDir: tree.root,
      outputDir: tree.root,
      signal: new AbortController().signal,
      progress: () => {},
      env: { PATH: process.env.PATH ?? '' },
    };
    const outcome = await commandPostprocessor.run(config, context);
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toContain(
      '`true` could not start: the command line and environment are too large for the system (E2BIG); move big values',
    );
  });
});
