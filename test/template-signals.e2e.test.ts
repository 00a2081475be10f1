import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { waitFor } from './helpers/processes.js';
import { readRunRecord } from './helpers/run-record.js';
import { makeTree } from './helpers/tree.js';

/** A template whose one file takes seconds to render: one synchronous Nunjucks call. */
const tree = makeTree({
  'template/big.txt': '{% for i in range(0, 3000000) %}{{ i }}\n{% endfor %}\n',
});
afterAll(() => tree.remove());

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
      // The staging lock is taken once modelrun has its signal handlers and
      // before it renders: however slowly it started, the render is then
      // about to begin, and takes about ten seconds.
      const lock = tree.path('simulations', runId, '.modelrun', 'run.lock');
      expect(await waitFor(() => existsSync(lock), 20_000)).toBe(true);
      await sleep(500);
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
