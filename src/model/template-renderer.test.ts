import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, type Tree } from '../../test/helpers/tree.js';
import { ConfigError } from '../errors.js';
import { openRenderer, RENDER_WORKER_SCRIPT } from './template-renderer.js';

let tree: Tree;
afterEach(() => tree?.remove());

const context = {
  config: {},
  runtime: { run_id: 'r1', staging_dir: '/tmp/r1', generated_at: '', host: 'h' },
} as never;

describe.skipIf(!existsSync(RENDER_WORKER_SCRIPT))('rendering in a worker', () => {
  it('turns a template whose output outgrows the memory into a template error', async () => {
    tree = makeTree({ 'tpl/': '' });
    const renderer = await openRenderer(
      tree.path('tpl'),
      context,
      new AbortController().signal,
      RENDER_WORKER_SCRIPT,
      16,
    );
    const huge =
      '{% for i in range(0, 20000) %}{% for j in range(0, 20000) %}xxxxxxxx{% endfor %}{% endfor %}';
    const error = await renderer.render('big.txt', huge).catch((e: unknown) => e);
    await renderer.close();
    // Before, the worker's own error came through: modelrun's "unexpected error", exit 70.
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      'template big.txt: rendering it needs more than 16 MiB of memory; its output is too large',
    );
  }, 60_000);

  it('has the date filters, and names an undefined variable, as in this thread', async () => {
    tree = makeTree({ 'tpl/': '' });
    const renderer = await openRenderer(tree.path('tpl'), context, new AbortController().signal);
    const date = await renderer.render(
      'a.txt',
      '{{ "2024-01-01" | add_hours(6) | strftime("%Y%m%d %H%M%S") }}',
    );
    const error = await renderer
      .render('b.txt', 'x\n{{ config.nmae | upper }}')
      .catch((e: unknown) => e);
    await renderer.close();
    expect(date).toBe('20240101 060000');
    expect((error as ConfigError).message).toBe(
      'template b.txt, line 2, column 18: config.nmae is not defined',
    );
  });
});
