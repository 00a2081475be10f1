import { execFile } from 'node:child_process';
import { EngineUnavailableError, RunFailedError } from '../errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm command; a missing command is reported by its name and a hint. */
export function slurmCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') {
          reject(
            new EngineUnavailableError(
              `${command} is not on PATH, so Slurm cannot be used from here`,
              {
                hint: 'run modelrun on a login node of the cluster, or load Slurm first (`module load slurm`)',
              },
            ),
          );
          return;
        }
        resolve({ code: typeof code === 'number' ? code : error === null ? 0 : 1, stdout, stderr });
      },
    );
  });
}

const UNREACHABLE =
  /Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted/i;

/** Throws the error a person can act on when sbatch, scontrol or scancel failed. */
export function slurmFailure(command: string, result: CommandResult): Error {
  const said = (result.stderr || result.stdout).trim().split('\n').filter(Boolean).join(' / ');
  if (UNREACHABLE.test(said)) {
    return new EngineUnavailableError(`the Slurm controller is unreachable: ${said}`, {
      hint: 'check that slurmctld runs (`scontrol ping`), and that this host can reach it',
    });
  }
  return new RunFailedError(`${command} failed: ${said || `exit code ${result.code}`}`, {
    hint:
      command === 'sbatch'
        ? 'check queue, account, qos and the resources asked for; `sinfo` lists the partitions'
        : 'see the Slurm message above',
  });
}

/** Fails fast when sbatch is missing or the controller does not answer. */
export async function checkSlurm(env: Record<string, string>): Promise<void> {
  const ping = await slurmCommand('scontrol', ['ping'], env, 15_000);
  if (ping.code !== 0 || !/\bUP\b/.test(ping.stdout)) {
    throw new EngineUnavailableError(
      `the Slurm controller is unreachable: ${(ping.stdout + ping.stderr).trim() || `scontrol ping exited ${ping.code}`}`,
      {
        hint: 'check that slurmctld runs (`scontrol ping`), and that this host can reach it',
      },
    );
  }
  const sbatch = await slurmCommand('sbatch', ['--version'], env, 15_000);
  if (sbatch.code !== 0) throw slurmFailure('sbatch', sbatch);
}
