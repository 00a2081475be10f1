import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import { publishedSchemaUrl } from './schema-url.js';

/**
 * What a new file's `$schema` modeline should say, for the schema
 * `<kind>.schema.json` ("docker", "model", "pipeline", ...). When modelrun's
 * own schemas/ folder lies inside the file's project (the file's folder or
 * one above it holds modelrun: a git clone, or node_modules/modelrun of a
 * local install), the relative path, which works offline and follows the
 * installed version. Otherwise (a global install, npx) the published URL of
 * this version: a path into the install prefix would break on any other
 * machine.
 */
export function schemaReference(
  kind: string,
  forFile: string,
  packageRoot: string = PACKAGE_ROOT,
): string {
  const name = `${kind}.schema.json`;
  const root = realPath(packageRoot);
  const folder = realPath(dirname(resolve(forFile)));
  if (withinProject(root, folder)) {
    const path = relative(folder, join(root, 'schemas', name))
      .split(sep)
      .join('/');
    return path.startsWith('.') ? path : `./${path}`;
  }
  return publishedSchemaUrl(name);
}

/** Whether `root` is `folder` or above it, or `node_modules/modelrun` of a folder above it. */
function withinProject(root: string, folder: string): boolean {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (dir === root || join(dir, 'node_modules', 'modelrun') === root) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** The real path of `path`, or of its nearest existing ancestor with the rest appended: the file may not exist yet. */
function realPath(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(realPath(parent), path.slice(parent.length));
}
