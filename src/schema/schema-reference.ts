import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import { publishedSchemaUrl } from './schema-url.js';

/**
 * What a new file's `$schema` modeline should say, for the schema
 * `<kind>.schema.json` ("docker", "model", "pipeline", ...). When modelrun's
 * own schemas/ folder lies inside the file's project (the file's folder or
 * one above it holds modelrun: a git clone, or node_modules/modelrun of a
 * local install, which may be a symlink, as npm link, pnpm and workspaces
 * make it), the relative path, which works offline and follows the
 * installed version. Otherwise (a global install, npx) the published URL of
 * this version: a path into the install prefix would break on any other
 * machine.
 *
 * An editor resolves the relative path from the path it opened the file by,
 * without following symlinks, so the folders are walked up as given, and
 * only each candidate's real path is compared with modelrun's.
 */
export function schemaReference(
  kind: string,
  forFile: string,
  packageRoot: string = PACKAGE_ROOT,
): string {
  const name = `${kind}.schema.json`;
  const root = realPath(packageRoot);
  const folder = dirname(resolve(forFile));
  const schemas = schemasFolderAbove(folder, root);
  if (schemas === undefined) return publishedSchemaUrl(name);
  const path = relative(folder, join(schemas, name)).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * modelrun's schemas/ folder as reached from `folder` or a folder above it,
 * by path as written: `D/node_modules/modelrun/schemas` or `D/schemas` for
 * the nearest D whose one or other leads to modelrun's real root.
 */
function schemasFolderAbove(folder: string, root: string): string | undefined {
  for (let dir = folder; ; dir = dirname(dir)) {
    const installed = join(dir, 'node_modules', 'modelrun');
    if (realPath(installed) === root) return join(installed, 'schemas');
    if (realPath(dir) === root) return join(dir, 'schemas');
    if (dirname(dir) === dir) return undefined;
  }
}

/** The real path of `path`, or of its nearest existing ancestor with the rest appended: the file may not exist yet. */
function realPath(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(realPath(parent), path.slice(parent.length));
}
