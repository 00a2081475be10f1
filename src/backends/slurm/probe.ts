import { EngineUnavailableError } from '../../errors.js';
import { stringEnv } from '../../exec/env.js';
import { type Availability, type ProbeOptions, requireAvailable } from '../contract.js';
import { slurmCommand, slurmFailure } from './cli.js';

/** How long each Slurm command of a run's check may take. */
const CHECK_MS = 15_000;

/**
 * Whether a job can be submitted from here: the controller answers and
 * sbatch runs. The one check behind both `backends list` and a run, so that
 * they cannot word a failure apart.
 */
async function usable(env: Record<string, string>, timeoutMs: number): Promise<Availability> {
  try {
    const ping = await slurmCommand('scontrol', ['ping'], env, timeoutMs);
    if (ping.code !== 0 || !/\bUP\b/.test(ping.stdout))
      return {
        available: false,
        detail: `the Slurm controller is unreachable: ${(ping.stdout + ping.stderr).trim() || `scontrol ping exited ${ping.code}`}`,
        hint: 'check that slurmctld runs (`scontrol ping`), and that this host can reach it',
      };
    const sbatch = await slurmCommand('sbatch', ['--version'], env, timeoutMs);
    if (sbatch.code !== 0) return unavailable(slurmFailure('sbatch', sbatch));
    return { available: true, detail: sbatch.stdout.trim() };
  } catch (error) {
    // A Slurm command that is not on PATH, with where Slurm is found.
    if (error instanceof EngineUnavailableError) return unavailable(error);
    throw error;
  }
}

function unavailable(error: Error & { hint?: string | undefined }): Availability {
  return {
    available: false,
    detail: error.message,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
  };
}

/** Fails fast, before anything is staged, when sbatch is missing or the controller does not answer. */
export async function checkSlurm(env: Record<string, string>): Promise<void> {
  requireAvailable(await usable(env, CHECK_MS));
}

/** For `backends list`: the check, then what the cluster is and its partitions. */
export async function probeSlurm({ env, timeoutMs }: ProbeOptions): Promise<Availability> {
  const vars = stringEnv(env);
  const check = await usable(vars, timeoutMs);
  if (!check.available) return check;
  try {
    const config = await slurmCommand('scontrol', ['show', 'config'], vars, timeoutMs);
    const cluster = /^ClusterName\s*=\s*(\S+)/m.exec(config.stdout)?.[1] ?? 'unknown';
    const version = /^SLURM_VERSION\s*=\s*(\S+)/m.exec(config.stdout)?.[1] ?? 'unknown';
    const partitions = await slurmCommand('sinfo', ['-h', '-o', '%P %a %D'], vars, timeoutMs);
    const list = partitions.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', state, nodes] = line.split(' ');
        return `${name} (${state}, ${nodes} node${nodes === '1' ? '' : 's'})`;
      });
    return {
      available: true,
      detail: `cluster ${cluster}, Slurm ${version}; partitions: ${list.join(', ') || 'none'}`,
    };
  } catch (error) {
    if (error instanceof EngineUnavailableError) return unavailable(error);
    throw error;
  }
}
