import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runModelrun } from './helpers/cli.js';
import { makeTree } from './helpers/tree.js';

/**
 * A right-to-left override in a folder or file name turns the rest of a
 * line around on a terminal. modelrun's own lines show it escaped; the
 * model's output, echoed live, is passed on byte for byte.
 */
const tree = makeTree();
afterAll(() => tree.remove());

const RLO = '\u202e';

describe('a run in a folder whose name holds a right-to-left override', () => {
  it('prints no raw override in its own lines, and echoes the model’s own as it is', async () => {
    const dir = join(tree.root, `x${RLO}abc-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir);
    const id = `bidi-${randomBytes(4).toString('hex')}`;
    writeFileSync(
      join(dir, 'm.yml'),
      `run_id: ${id}\ncommand: |\n  printf 'model\\342\\200\\256says\\n'; exit 3\n`,
    );
    const result = await runModelrun(['run', 'm.yml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`model${RLO}says\n`);
    expect(result.stderr).not.toContain(RLO);
    expect(result.stderr).toContain(`x\\u202eabc-`);
    expect(result.stderr).toMatch(/run dir .*x\\u202eabc-/);
  });
});
