import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runModelrun } from './helpers/cli.js';
import { makeTree, type Tree } from './helpers/tree.js';

/** A model that leaves a setuid program, a link out of the run and a FIFO among its outputs. */
const MODEL = `run_id: odd-outputs
output_dir: ./sims
command: >-
  sh -c 'mkdir -p out && echo data > out/a.nc && printf "#!/bin/sh\\\\n" > out/tool &&
  chmod 4755 out/tool && ln -s /etc/hostname out/host && mkfifo out/pipe'
postprocess:
  - type: checksum
  - type: archive
`;

const OUTSIDE = 'symlink to /etc/hostname, outside the run directory; never followed';

let tree: Tree;
beforeEach(() => {
  tree = makeTree({ 'model.yml': MODEL });
});
afterEach(() => tree.remove());

describe('modelrun run with archive and checksum postprocessors', () => {
  it('names what each left out in the summary and run.json, and archives modes faithfully and never a link that leads out', async () => {
    const result = await runModelrun(['run', 'model.yml'], { cwd: tree.root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      '✓ checksum: wrote SHA256SUMS (4 files); left out 2: out/host (symlink to /etc/hostname, outside the run directory; never followed), out/pipe (a FIFO, not a regular file)',
    );
    expect(result.stderr).toMatch(
      /✓ archive: wrote .*odd-outputs\.tar\.gz \(5 files, [\d.]+ \w+\); left out 2: out\/host \(symlink to \/etc\/hostname, outside the run directory; never followed\), out\/pipe \(a FIFO, not a regular file\)/,
    );
    const record = JSON.parse(
      readFileSync(tree.path('sims/odd-outputs/.modelrun/run.json'), 'utf8'),
    ) as { postprocess: { details: { left_out: unknown[] } }[] };
    expect(record.postprocess.map((post) => post.details.left_out)).toEqual([
      [
        { path: 'out/host', reason: OUTSIDE },
        { path: 'out/pipe', reason: 'a FIFO, not a regular file' },
      ],
      [
        { path: 'out/host', reason: OUTSIDE },
        { path: 'out/pipe', reason: 'a FIFO, not a regular file' },
      ],
    ]);
    const listing = execFileSync('tar', ['-tvzf', tree.path('sims/odd-outputs.tar.gz')], {
      encoding: 'utf8',
    });
    expect(listing).not.toContain('out/host');
    expect(listing).toMatch(/^-rwxr-xr-x .* out\/tool$/m);
  });
});
