import { ConfigError } from '../errors.js';
import type { SlurmConfig } from './slurm-config.js';

/**
 * The --export option that hands the job its secret variables, or undefined
 * when it has none. The values are in sbatch's environment; this names them
 * only, so no value is in the script, in a file of ours, or on a command
 * line. It keeps what the user chose: their own `--export` from
 * additional_options (the last one, as sbatch takes it), else SBATCH_EXPORT
 * from the environment, else sbatch's default ALL, with the names added.
 */
export function sbatchExport(
  config: SlurmConfig,
  secretNames: string[],
  hostEnv: Record<string, string | undefined>,
): string | undefined {
  if (secretNames.length === 0) return undefined;
  const index = (config.additional_options ?? []).findLastIndex((option) =>
    option.startsWith('--export='),
  );
  const option = config.additional_options?.[index];
  const [chosen, where] =
    option !== undefined
      ? [option.slice('--export='.length), `additional_options[${index}] "${option}"`]
      : hostEnv.SBATCH_EXPORT !== undefined && hostEnv.SBATCH_EXPORT !== ''
        ? [hostEnv.SBATCH_EXPORT, `SBATCH_EXPORT=${hostEnv.SBATCH_EXPORT} in the environment`]
        : ['ALL', undefined];
  const entries = chosen.split(',').filter((entry) => entry !== '');
  // sbatch takes no variable names beside NONE or NIL, and what these mean beside names differs between Slurm versions.
  const bare = entries.find((entry) => /^(?:NONE|NIL)$/i.test(entry));
  if (bare !== undefined && where !== undefined) {
    throw new ConfigError(
      `${where} leaves no way to give the job ${secretNames.join(', ')}: modelrun passes secret variables to the job by name from sbatch's environment, never in the script, and sbatch takes no names with --export=${bare}`,
      {
        hint: `list the variables the job needs instead (--export=PATH,HOME; modelrun adds ${secretNames.join(', ')}), or ${option === undefined ? 'unset SBATCH_EXPORT' : 'drop the option'}`,
      },
    );
  }
  const listed = new Set(entries);
  return `--export=${[...entries, ...secretNames.filter((name) => !listed.has(name))].join(',')}`;
}
