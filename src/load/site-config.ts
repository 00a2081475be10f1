import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { closestMatch } from '../config/did-you-mean.js';
import { describeValue } from '../config/fields.js';
import { statKind } from '../config/path-context.js';
import { ConfigError } from '../errors.js';
import { count } from '../plural.js';
import { isRecord } from '../records.js';
import { fileLayer, type Layer, placeInLayer, subLayer } from './layers.js';
import { parseYaml } from './parse-yaml.js';
import { readSource } from './read-source.js';

/**
 * The site config: defaults that an HPC site (or a user) sets once for each
 * backend type, such as a Slurm account and partition, and that apply under
 * every backend config of that type:
 *
 *     backends:
 *       slurm:
 *         account: climate
 *         partition: batch
 *
 * Found at MODELRUN_SITE_CONFIG, else at $XDG_CONFIG_HOME/modelrun/site.yml
 * (~/.config/modelrun/site.yml); a missing file at the default place is no
 * site config, while a MODELRUN_SITE_CONFIG that names a missing file is an
 * error, as it was asked for.
 */
export interface SiteConfig {
  /** The file, as messages name it. */
  file: string;
  /** The defaults for a backend type, as a layer under its configs; undefined when the site sets none. */
  layerFor(type: string): Layer | undefined;
}

export const SITE_CONFIG_VARIABLE = 'MODELRUN_SITE_CONFIG';

/** Where the site config is looked for, and whether it must be there. */
export function siteConfigPath(
  env: NodeJS.ProcessEnv,
): { path: string; required: boolean } | undefined {
  const named = env[SITE_CONFIG_VARIABLE];
  if (named !== undefined && named !== '') return { path: named, required: true };
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.config');
  return { path: join(base, 'modelrun', 'site.yml'), required: false };
}

/**
 * Reads the site config, or undefined when there is none. A site config
 * that cannot be read or is not valid is a ConfigError that says where:
 * every backend config would be merged with it, so nothing can be trusted.
 * `types` are the backend types a section may name.
 */
export function loadSiteConfig(
  env: NodeJS.ProcessEnv,
  cwd: string,
  types: readonly string[],
): SiteConfig | undefined {
  const where = siteConfigPath(env);
  if (where === undefined) return undefined;
  const path = isAbsolute(where.path) ? where.path : join(cwd, where.path);
  const shown = where.path;
  const hint = `fix it, or run with --no-site-config to leave it out; it is ${where.required ? `named by ${SITE_CONFIG_VARIABLE}` : 'the default site config'}`;
  // At the default place, only a file that is there counts: a home folder that cannot be
  // searched (modelrun run as another user) has no site config for this run.
  const kind = statKind(path);
  if (!where.required && (kind === 'missing' || kind === 'unreachable')) return undefined;
  const source = readSource(path);
  if (!source.ok) {
    if (source.reason === 'missing' && !where.required) return undefined;
    throw new ConfigError(`the site config ${shown} cannot be read: ${source.message}`, { hint });
  }
  // Empty, or comments only: a site config with nothing set yet.
  if (/^(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|$))*$/.test(source.text))
    return { file: shown, layerFor: () => undefined };
  const read = fileLayer(shown, path, parseYaml(source.text), env);
  const problems = [...read.problems];
  const sections = new Map<string, Layer>();
  if (read.layer !== undefined) {
    const site = read.layer;
    for (const [key, value] of Object.entries(site.data)) {
      if (key === '$schema') continue;
      if (key !== 'backends') {
        problems.push(placeInLayer(site, [key], unknownKey(key, ['backends']), 'key'));
        continue;
      }
      if (!isRecord(value)) {
        problems.push(
          placeInLayer(
            site,
            [key],
            `backends must be a mapping of backend types to their defaults; got ${describeValue(value)}`,
          ),
        );
        continue;
      }
      for (const [type, defaults] of Object.entries(value)) {
        if (!types.includes(type)) {
          problems.push(
            placeInLayer(site, [key, type], unknownKey(type, types, 'backend type'), 'key'),
          );
        } else if (!isRecord(defaults)) {
          problems.push(
            placeInLayer(
              site,
              [key, type],
              `the ${type} defaults must be a mapping of fields to values; got ${describeValue(defaults)}`,
            ),
          );
        } else if (Object.hasOwn(defaults, 'type')) {
          problems.push(
            placeInLayer(
              site,
              [key, type, 'type'],
              `the section says its type already: remove type from backends.${type}`,
              'key',
            ),
          );
        } else {
          sections.set(type, subLayer(site, ['backends', type], defaults));
        }
      }
    }
  }
  if (problems.length > 0)
    throw new ConfigError(
      `the site config ${shown} is not valid (${count(problems.length, 'error')})`,
      {
        hint,
        problems,
      },
    );
  return { file: shown, layerFor: (type) => sections.get(type) };
}

function unknownKey(key: string, known: readonly string[], what = 'key'): string {
  const match = closestMatch(key, known);
  return match === undefined
    ? `unknown ${what} "${key}"; a site config holds ${known.length === 1 ? known[0] : `one of ${known.join(', ')}`}`
    : `unknown ${what} "${key}"; did you mean "${match}"?`;
}
