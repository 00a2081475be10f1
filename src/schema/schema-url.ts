import { VERSION } from '../package-info.js';

/**
 * Where this version's schemas are published: the files of the npm package,
 * served by a CDN that keeps every version. Used as each schema's `$id` and
 * as the modeline of a file written outside any project that holds modelrun.
 */
export function publishedSchemaUrl(fileName: string, version = VERSION): string {
  return `https://cdn.jsdelivr.net/npm/modelrun@${version}/schemas/${fileName}`;
}
