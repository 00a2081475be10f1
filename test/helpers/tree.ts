import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file tree: a path ending in / is a folder, anything else a file with that content. */
export type TreeSpec = Record<string, string>;

export interface Tree {
  root: string;
  path(...parts: string[]): string;
  write(relative: string, content: string): string;
  remove(): void;
}

/** Creates a throwaway folder holding `spec`; call remove() when done. */
export function makeTree(spec: TreeSpec = {}): Tree {
  const root = mkdtempSync(join(tmpdir(), 'modelrun-test-'));
  const tree: Tree = {
    root,
    path: (...parts) => join(root, ...parts),
    write(relative, content) {
      const target = join(root, relative);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      return target;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [relative, content] of Object.entries(spec)) {
    if (relative.endsWith('/')) mkdirSync(join(root, relative), { recursive: true });
    else tree.write(relative, content);
  }
  return tree;
}
