import type { Layering } from '../load/layering.js';
import { parseOverride } from '../load/override-arg.js';
import { loadSiteConfig } from '../load/site-config.js';

/** The layering flags of a command (command-options.ts layerFlags), as it receives them. */
export interface LayerFlagValues {
  set?: string[];
  setString?: string[];
  siteConfig?: boolean;
}

/**
 * What a command layers over and under its files: the overrides, each read
 * (a malformed one is a UsageError that names it), `--set` before
 * `--set-string`; and the site config unless `--no-site-config`.
 */
export async function layeringOf(
  flags: LayerFlagValues,
  { env, cwd }: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<Layering> {
  const overrides = [
    ...(flags.set ?? []).map((text) => parseOverride('--set', text)),
    ...(flags.setString ?? []).map((text) => parseOverride('--set-string', text)),
  ];
  if (flags.siteConfig === false) return { overrides };
  const { backendTypes } = await import('../backends/registry.js');
  const site = loadSiteConfig(env, cwd, backendTypes);
  return site === undefined ? { overrides } : { overrides, site };
}

/** The overrides as the user wrote them, for the record and for `wait` to load the run again. */
export function overrideArgs(layering: Layering): string[] {
  return (layering.overrides ?? []).map((override) => override.arg);
}
