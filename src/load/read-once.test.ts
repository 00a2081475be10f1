import { describe, expect, it } from 'vitest';
import { treeForEachTest } from '../../test/helpers/tree.js';
import { ReadOnce } from './read-once.js';
import { readSource } from './read-source.js';
import { loadBackend, loadPostprocessors, requireModel } from './run-inputs.js';

/** Files read through a ReadOnce: each once, as first read, however many runs are made of it. */

const tree = treeForEachTest({
  'base.yml': 'command: "true"\nconfig: {depth_m: 5}\n',
  'model.yml': 'extends: base.yml\nrun_id: wave\noutput_dir: runs\n',
  'local-base.yml': 'type: local\ntimeout: 2h\n',
  'local.yml': 'extends: local-base.yml\n',
  'checksum.yml': 'type: checksum\n',
});

/** A ReadOnce that counts the reads of each file, by its name in the tree. */
function counted() {
  const reads = new Map<string, number>();
  const readOnce = new ReadOnce((path) => {
    const name = path.slice(tree.root.length + 1);
    reads.set(name, (reads.get(name) ?? 0) + 1);
    return readSource(path);
  });
  return { readOnce, reads };
}

describe('a ReadOnce', () => {
  it('reads a model, a backend config, their bases and a postprocessor config once each', () => {
    const { readOnce, reads } = counted();
    const ctx = { env: {}, cwd: tree.root, readOnce };
    for (let i = 0; i < 3; i++) {
      expect(requireModel('model.yml', ctx).value).toMatchObject({ config: { depth_m: 5 } });
      expect(loadBackend('local.yml', ctx).value).toMatchObject({ timeout: 7200 });
      expect(loadPostprocessors(['checksum.yml'], ctx)).toMatchObject([{ type: 'checksum' }]);
    }
    expect(Object.fromEntries(reads)).toEqual({
      'model.yml': 1,
      'base.yml': 1,
      'local.yml': 1,
      'local-base.yml': 1,
      'checksum.yml': 1,
    });
  });

  it('gives a file as it was first read, though it changed since', () => {
    const { readOnce } = counted();
    const ctx = { env: {}, cwd: tree.root, readOnce };
    requireModel('model.yml', ctx);
    tree.write('base.yml', 'command: "false"\nconfig: {depth_m: 6}\n');
    tree.write('model.yml', 'run_id: other\noutput_dir: runs\ncommand: "true"\n');
    expect(requireModel('model.yml', ctx).value).toMatchObject({
      run_id: 'wave',
      command: 'true',
      config: { depth_m: 5 },
    });
    // Without it, each load reads the disk.
    expect(requireModel('model.yml', { env: {}, cwd: tree.root }).value.run_id).toBe('other');
  });

  it('keeps a file that could not be read as missing', () => {
    const { readOnce, reads } = counted();
    expect(readOnce.file(tree.path('gone.yml')).source).toMatchObject({ reason: 'missing' });
    tree.write('gone.yml', 'run_id: late\n');
    expect(readOnce.file(tree.path('gone.yml')).source).toMatchObject({ reason: 'missing' });
    expect(reads.get('gone.yml')).toBe(1);
  });
});
