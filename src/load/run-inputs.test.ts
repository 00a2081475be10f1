import { afterEach, describe, expect, it, vi } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { localBackend } from '../backends/local/index.js';
import { defaultBackend } from './run-inputs.js';

/** The local backend a model runs on when nothing names one. */

const tree = treeForEachTest({ 'a/': '', 'b/': '' });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the default backend', () => {
  it('is the local backend with its defaults, paths against the model file', () => {
    expect(defaultBackend(tree.path('a', 'model.yml')).value).toEqual({
      type: 'local',
      timeout: 3600,
      shell: true,
      capture_output: true,
      stream_output: true,
    });
  });

  it('builds the local schema once for the model files of one folder', () => {
    const built = vi.spyOn(localBackend, 'configSchema');
    for (const file of ['one.yml', 'two.yml', 'one.yml']) defaultBackend(tree.path('a', file));
    expect(built).toHaveBeenCalledTimes(1);
    defaultBackend(tree.path('b', 'model.yml'));
    expect(built).toHaveBeenCalledTimes(2);
  });

  it('is a config of its own for each run, which no other run changes', () => {
    const first = defaultBackend(tree.path('a', 'model.yml')).value;
    const second = defaultBackend(tree.path('a', 'model.yml')).value;
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });
});
