import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nobodyUnavailable, runModelrun } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';

let tree: Tree;
afterEach(() => tree?.remove());

const MODEL = 'run_id: r1\noutput_dir: ./out\ntemplate: ./template\n';

describe('modelrun generate and run with a template', () => {
  it('keeps a rendered script executable, so the model can run it', async () => {
    tree = makeTree({
      'model.yml': `${MODEL}command: ./run.sh\n`,
      'template/run.sh': '#!/bin/sh\necho "ran {{ runtime.run_id }}"\n',
    });
    chmodSync(tree.path('template', 'run.sh'), 0o755);
    const result = await runModelrun(['run', 'model.yml', '--no-postprocess'], { cwd: tree.root });
    expect(result.stdout).toContain('ran r1');
    expect(result.code).toBe(0);
  });

  it('counts linked files in the summary, and warns of a file it could not render', async () => {
    tree = makeTree({
      'model.yml': `${MODEL}command: "true"\n`,
      'template/input.txt': '{{ runtime.run_id }}',
    });
    symlinkSync('/data/forcing', tree.path('template', 'forcing'));
    const latin1 = Buffer.from('caf\u00e9 = {{ x }}\n', 'latin1');
    writeFileSync(tree.path('template', 'old.nml'), latin1);
    const result = await runModelrun(['generate', 'model.yml'], { cwd: tree.root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      'warning: template old.nml was copied, not rendered: it is not UTF-8 text (byte 3 is 0xe9)',
    );
    expect(result.stderr).toMatch(
      /generated 3 files from .*template \(1 rendered, 1 copied, 1 linked\)/,
    );
    expect(readFileSync(tree.path('out', 'r1', 'old.nml')).equals(latin1)).toBe(true);
  });

  it('refuses a link in the staging dir, naming it, and leaves its target alone', async () => {
    // A folder modelrun staged before (it has .modelrun/), where a model left a link.
    tree = makeTree({
      'model.yml': `${MODEL}command: "true"\n`,
      'template/input.txt': 'new',
      'elsewhere/file.txt': 'precious',
      'out/r1/.modelrun/': '',
    });
    symlinkSync(tree.path('elsewhere', 'file.txt'), tree.path('out', 'r1', 'input.txt'));
    const result = await runModelrun(['generate', 'model.yml'], { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('holds a symlink input.txt where it goes');
    expect(result.stderr).toContain('set delete_existing: true');
    expect(readFileSync(tree.path('elsewhere', 'file.txt'), 'utf8')).toBe('precious');
  });

  it.for([
    ['file', 'secret.txt', 'template file secret.txt: permission denied'],
    ['folder', 'locked', 'template folder locked: permission denied'],
  ] as const)(
    'names an unreadable template %s (run as nobody)',
    async ([kind, name, says], ctx) => {
      const skip = nobodyUnavailable();
      if (skip !== undefined) return ctx.skip(skip);
      tree = makeTree({
        'model.yml': `${MODEL}command: "true"\n`,
        'template/a.txt': 'a',
        'out/': '',
      });
      if (kind === 'file') tree.write(`template/${name}`, 'secret');
      else mkdirSync(tree.path('template', name));
      chmodSync(tree.path('template', name), 0o000);
      chmodSync(tree.root, 0o755);
      chmodSync(tree.path('out'), 0o777);
      const result = await runModelrun(['generate', 'model.yml'], {
        cwd: tree.root,
        env: { HOME: tree.path('out') },
        asNobody: true,
      });
      expect(result.stderr).toContain(says);
      expect(result.code).toBe(2);
    },
  );
});
