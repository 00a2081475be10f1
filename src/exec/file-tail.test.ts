import { appendFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { FileTail } from './file-tail.js';

let tree: Tree;
afterEach(() => tree?.remove());

function tailOf(path: string) {
  const into = new PassThrough();
  let text = '';
  into.on('data', (chunk: Buffer) => (text += chunk));
  return { tail: new FileTail(() => path, into, 4), text: () => text };
}

describe('following a file another process writes', () => {
  it('passes on what was added since the last look, in small chunks', async () => {
    tree = makeTree({ 'out.txt': 'first\n' });
    const { tail, text } = tailOf(tree.path('out.txt'));
    expect(await tail.poll()).toBe(6);
    appendFileSync(tree.path('out.txt'), 'second\n');
    expect(await tail.poll()).toBe(7);
    expect(text()).toBe('first\nsecond\n');
  });

  it('reads a file that began again from its start, as Slurm truncates a requeued job’s output', async () => {
    tree = makeTree({ 'out.txt': 'attempt one, a longer line\n' });
    const { tail, text } = tailOf(tree.path('out.txt'));
    await tail.poll();
    writeFileSync(tree.path('out.txt'), 'attempt 2\n');
    await tail.poll();
    // Before, reading went on from the old offset and lost the new lines.
    expect(text()).toBe('attempt one, a longer line\nattempt 2\n');
  });

  it('reads a file that began again and already outgrew what was read, by how it starts', async () => {
    tree = makeTree({ 'out.txt': 'first\n' });
    const { tail, text } = tailOf(tree.path('out.txt'));
    await tail.poll();
    writeFileSync(tree.path('out.txt'), 'second\nend\n');
    await tail.poll();
    expect(text()).toBe('first\nsecond\nend\n');
  });
});
