import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { waitFor } from './helpers/processes.js';
import { readRunRecord } from './helpers/run-record.js';
import { treeForEachTest } from './helpers/tree.js';

/**
 * A template whose big.txt takes seconds to render: one synchronous Nunjucks
 * call. Files render in the order of their names, so a.txt is staged just
 * before big.txt begins.
 */
const tree = treeForEachTest({
  'template/a.txt': '{{ 1 + 1 }}\n',
  'template/big.txt': '{% for i in range(0, 3000000) %}{{ i }}\n{% endfor %}\n',
});

describe('a signal during template rendering', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s ends modelrun within a second, the run recorded as cancelled',
    async (signal, code) => {
      const runId = `slow-render-${randomBytes(4).toString('hex')}`;
      tree.write(`${runId}.yml`, `run_id: ${runId}\ntemplate: ./template\ncommand: "true"\n`);
      const child = spawn(process.execPath, [BIN, 'run', `${runId}.yml`], {
        cwd: tree.root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      // a.txt staged: the render of big.txt, about ten seconds, is under way.
      const first = tree.path('simulations', runId, 'a.txt');
      expect(await waitFor(() => existsSync(first), 20_000)).toBe(true);
      const sent = Date.now();
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(Date.now() - sent).toBeLessThan(1000);
      expect(readRunRecord(tree.path('simulations', runId))).toMatchObject({
        status: 'cancelled',
        stages: { generate: { status: 'cancelled' } },
      });
    },
    45_000,
  );
});
