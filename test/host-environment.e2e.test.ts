import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

let tree: Tree;
afterEach(() => tree?.remove());

describe('a host environment that Node re-encodes past the kernel limit', () => {
  // 50,000 bytes of Latin-1 "é" are fine for the kernel, and 150,000 once Node
  // reads each as U+FFFD. Only a shell can hand modelrun bytes like these.
  it('fails the run with E2BIG and what to do, not as an unexpected error', () => {
    tree = makeTree({ 'model.yml': `run_id: ${uniqueId('host-env')}\ncommand: "true"\n` });
    const result = spawnSync(
      'bash',
      [
        '-c',
        `X=$(head -c 50000 /dev/zero | tr '\\0' '\\351') exec "$0" "$1" run model.yml`,
        process.execPath,
        BIN,
      ],
      { cwd: tree.root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    // Before, the guardian's start threw E2BIG and modelrun exited 70.
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'could not start the model: the command line and environment are too large for the system (E2BIG)',
    );
    expect(result.stderr).toContain('the environment modelrun runs in');
  });
});
