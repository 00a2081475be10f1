import { UsageError } from '../errors.js';
import { DETACHED_OVERRIDES_VARIABLE } from '../handover.js';
import type { Layering } from '../load/layering.js';
import { type Override, type OverrideFlag, parseOverride } from '../load/override-arg.js';
import { loadSiteConfig } from '../load/site-config.js';

/** The layering flags of a command (command-options.ts layerFlags), as it receives them. */
export interface LayerFlagValues {
  set?: string[];
  setString?: string[];
  siteConfig?: boolean;
}

/** The overrides the flags give, each read (a malformed one is a UsageError that names it), --set first. */
export function overridesOf(flags: LayerFlagValues): Override[] {
  return [
    ...(flags.set ?? []).map((text) => parseOverride('--set', text)),
    ...(flags.setString ?? []).map((text) => parseOverride('--set-string', text)),
  ];
}

/**
 * What a command layers over and under its files: the overrides of its
 * flags (and of a supervisor's environment), and the site config unless
 * `--no-site-config`.
 */
export async function layeringOf(
  flags: LayerFlagValues,
  { env, cwd }: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<Layering> {
  const overrides = [...overridesOf(flags), ...handedOver(env)];
  if (flags.siteConfig === false) return { overrides };
  const { backendTypes } = await import('../backends/registry.js');
  const site = loadSiteConfig(env, cwd, backendTypes);
  return site === undefined ? { overrides } : { overrides, site };
}

function handedOver(env: NodeJS.ProcessEnv): Override[] {
  const json = env[DETACHED_OVERRIDES_VARIABLE];
  if (json === undefined || json === '') return [];
  let pairs: unknown;
  try {
    pairs = JSON.parse(json);
  } catch {
    pairs = undefined;
  }
  const flags: readonly string[] = ['--set', '--set-string'];
  if (
    !Array.isArray(pairs) ||
    !pairs.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        flags.includes(pair[0]) &&
        typeof pair[1] === 'string',
    )
  )
    throw new UsageError(
      `${DETACHED_OVERRIDES_VARIABLE} is not a list of [flag, PATH=VALUE] pairs`,
      {
        hint: `unset ${DETACHED_OVERRIDES_VARIABLE}: modelrun sets it for the runs it detaches, and give the values with --set`,
      },
    );
  return (pairs as [OverrideFlag, string][]).map(([flag, text]) => parseOverride(flag, text));
}
