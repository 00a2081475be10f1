import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { diskPathContext } from '../config/path-context.js';
import { noopConfigSchema, noopPostprocessor } from './noop.js';
import type { PostprocessContext, PostprocessorConfig } from './types.js';

describe('noop postprocessor', () => {
  let tree: Tree;
  afterEach(() => tree.remove());

  function runNoop(fields: Record<string, unknown>, stagingDir: string) {
    const config = noopConfigSchema(diskPathContext(tree.root)).parse({ type: 'noop', ...fields });
    const context: PostprocessContext = {
      runId: 'run-1',
      stagingDir,
      outputDir: tree.root,
      signal: new AbortController().signal,
      progress: () => {},
      env: process.env,
    };
    return noopPostprocessor.run(config as PostprocessorConfig, context);
  }

  it('counts the files of the run directory, in folders too, but not .modelrun/', async () => {
    tree = makeTree({
      'run/a.nc': 'a',
      'run/out/b.nc': 'b',
      'run/.hidden': 'h',
      'run/.modelrun/run.json': '{}',
    });
    expect(await runNoop({}, tree.path('run'))).toEqual({
      status: 'succeeded',
      summary: `3 files in ${tree.path('run')}`,
      details: { files: 3 },
    });
  });

  it('fails when the run directory is missing', async () => {
    tree = makeTree();
    const outcome = await runNoop({}, tree.path('gone'));
    expect(outcome.status).toBe('failed');
    expect(outcome.summary).toBe(
      `the run directory ${tree.path('gone')} does not exist; check that the model ran and that the run was not cleaned up`,
    );
  });

  it('checks nothing with validate_outputs: false', async () => {
    tree = makeTree();
    expect(await runNoop({ validate_outputs: false }, tree.path('gone'))).toEqual({
      status: 'succeeded',
      summary: 'nothing to check',
    });
  });

  it.each([
    [{}, true],
    [{ validate_outputs: false }, false],
  ])('parses %j with validate_outputs %s', (fields, expected) => {
    tree = makeTree();
    const config = noopConfigSchema(diskPathContext(tree.root)).parse({ type: 'noop', ...fields });
    expect(config).toMatchObject({
      type: 'noop',
      validate_outputs: expected,
      stop_on_error: false,
    });
  });
});
