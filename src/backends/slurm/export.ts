import { ConfigError } from '../../errors.js';
import type { SlurmConfig } from './config.js';

/** The index of the --export that sbatch takes from additional_options (the last), or -1. */
export function exportOptionIndex(options: readonly string[] | undefined): number {
  return (options ?? []).findLastIndex((option) => option.startsWith('--export='));
}

/**
 * NONE or NIL, when the export holds one: sbatch takes no variable names
 * beside them, and what they mean beside names differs between Slurm versions.
 */
export function namelessExport(entries: string[]): string | undefined {
  return entries.find((entry) => /^(?:NONE|NIL)$/i.test(entry));
}

/** Why such an export cannot carry the secret variables; the caller says where it was set. */
export function namelessExportProblem(keyword: string, secretNames: string[]): string {
  return `leaves no way to give the job ${secretNames.join(', ')}: modelrun passes secret variables to the job by name from sbatch's environment, never in the script, and sbatch takes no names with --export=${keyword}`;
}

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
  const index = exportOptionIndex(config.additional_options);
  const option = config.additional_options?.[index];
  const [chosen, where] =
    option !== undefined
      ? [option.slice('--export='.length), `additional_options[${index}] "${option}"`]
      : hostEnv.SBATCH_EXPORT !== undefined && hostEnv.SBATCH_EXPORT !== ''
        ? [hostEnv.SBATCH_EXPORT, `SBATCH_EXPORT=${hostEnv.SBATCH_EXPORT} in the environment`]
        : ['ALL', undefined];
  const entries = chosen.split(',').filter((entry) => entry !== '');
  const bare = namelessExport(entries);
  if (bare !== undefined && where !== undefined) {
    throw new ConfigError(`${where} ${namelessExportProblem(bare, secretNames)}`, {
      hint: `list the variables the job needs instead (--export=PATH,HOME; modelrun adds ${secretNames.join(', ')}), or ${option === undefined ? 'unset SBATCH_EXPORT' : 'drop the option'}`,
    });
  }
  const twice = entries.find((entry) => secretNames.includes(entry.split('=', 1)[0] ?? ''));
  if (twice?.includes('=') && where !== undefined) {
    const name = twice.split('=', 1)[0];
    throw new ConfigError(`${where} sets ${name}, which env_vars gives the job too`, {
      hint: `set ${name} in one place: in env_vars (its value then stays off sbatch's command line), not in --export`,
    });
  }
  const listed = new Set(entries);
  return `--export=${[...entries, ...secretNames.filter((name) => !listed.has(name))].join(',')}`;
}
