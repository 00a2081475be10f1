import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import type { Tree } from './tree.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'wave');

/**
 * A copy of examples/wave in `tree`, without runs staged in the repo by
 * hand, its ensemble under an id of its own (the aggregate step finds its
 * script beside the ensemble file, wherever that is). Gives the copy's folder.
 */
export function copyWaveExample(tree: Tree, ensembleId: string): string {
  const to = tree.path('wave');
  cpSync(EXAMPLE, to, {
    recursive: true,
    filter: (src) => !src.startsWith(join(EXAMPLE, 'simulations')),
  });
  const file = join(to, 'ensemble.yml');
  const text = readFileSync(file, 'utf8');
  if (!/^ensemble_id: /m.test(text))
    throw new Error('examples/wave/ensemble.yml names no ensemble_id');
  writeFileSync(file, text.replace(/^ensemble_id: .*$/m, `ensemble_id: ${ensembleId}`));
  return to;
}
