import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

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
    // Retried: a guardian or postprocessor that has just ended may still be
    // finishing a write in the tree as it goes.
    remove: () => rmSync(root, { recursive: true, force: true, maxRetries: 5 }),
  };
  for (const [relative, content] of Object.entries(spec)) {
    if (relative.endsWith('/')) mkdirSync(join(root, relative), { recursive: true });
    else tree.write(relative, content);
  }
  return tree;
}

/**
 * A tree made afresh for each test of the file (or describe block) that
 * calls this, and removed after it, so that no test sees what another left
 * and the tests pass in any order. `setup` adds to each new tree. Read it
 * only inside a test or a hook: between tests there is none.
 */
export function treeForEachTest(spec: TreeSpec = {}, setup?: (tree: Tree) => void): Tree {
  let current: Tree | undefined;
  beforeEach(() => {
    current = makeTree(spec);
    setup?.(current);
  });
  afterEach(() => {
    current?.remove();
    current = undefined;
  });
  const now = (): Tree => {
    if (current === undefined) throw new Error('the tree exists only while a test runs');
    return current;
  };
  return {
    get root() {
      return now().root;
    },
    path: (...parts) => now().path(...parts),
    write: (relative, content) => now().write(relative, content),
    remove: () => now().remove(),
  };
}
