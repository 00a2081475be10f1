import { EngineUnavailableError, RunFailedError } from '../../errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm command; a missing command is reported by its name and a hint. */
export async function slurmCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
  started?: (pid: number) => void,
): Promise<CommandResult> {
  // Loaded here, so that commands which never ask Slurm (validate, --help) do not pay for it.
  const { execa } = await import('execa');
  const subprocess = execa(command, args, {
    env,
    extendEnv: false,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    reject: false,
    stripFinalNewline: false,
    // Its default would hook signal-exit into modelrun's own signal handling.
    cleanup: false,
  });
  if (subprocess.pid !== undefined) started?.(subprocess.pid);
  const result = await subprocess;
  if (result.code === 'ENOENT') {
    throw new EngineUnavailableError(
      `${command} is not on PATH, so Slurm cannot be used from here`,
      {
        hint: 'run modelrun on a login node of the cluster, or load Slurm first (`module load slurm`)',
      },
    );
  }
  // Killed (by the timeout) or cut off (too much output): no exit code of its own, so a failure.
  const code = typeof result.exitCode === 'number' ? result.exitCode : result.failed ? 1 : 0;
  return { code, stdout: result.stdout, stderr: result.stderr };
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
    hint: command === 'sbatch' ? sbatchHint(said) : 'see the Slurm message above',
  });
}

/**
 * What sbatch's refusals mean, by what it said: the field to check and how
 * to see what is allowed. In this order: "violates accounting/QOS policy
 * (... time limits)" is about limits, and "Invalid account or
 * account/partition combination" about the account.
 */
const SBATCH_HINTS: [RegExp, string][] = [
  [
    /policy|QOSMax|AssocMax/i,
    'the job breaks a limit of your account or QOS; `sacctmgr show assoc user=$USER` shows the limits',
  ],
  [
    /account/i,
    'check `account` (and `queue`: an account may not be allowed on every partition); `sacctmgr show assoc user=$USER` lists yours',
  ],
  [/partition/i, 'check `queue`; `sinfo` lists the partitions'],
  [
    /qos/i,
    'check `qos`; `sacctmgr show assoc user=$USER format=account,partition,qos` lists yours',
  ],
  [/reservation/i, 'check `reservation`; `scontrol show reservation` lists them'],
  [/feature/i, 'check `constraint`; `sinfo -o "%N %f"` lists the nodes\' features'],
  [
    /gres|generic resource/i,
    'check `gres` and `gpus`; `sinfo -o "%N %G"` lists the nodes\' resources',
  ],
  [/license/i, 'check the licenses in `additional_options`; `scontrol show licenses` lists them'],
  [/time limit/i, 'check `time_limit`; `sinfo -o "%P %l"` lists the partitions\' limits'],
  [
    /node configuration|memory|cpu count|too many|node count/i,
    'ask for fewer resources (`nodes`, `ntasks`, `cpus_per_task`, `mem`, `mem_per_cpu`); `sinfo -N -l` lists what the nodes have',
  ],
  [
    /unrecognized option|invalid option|invalid argument|directive/i,
    'check `additional_options`: sbatch did not take an option there (`sbatch --help` lists its options); `modelrun run --dry-run` shows the script and the command line',
  ],
];

function sbatchHint(said: string): string {
  return (
    SBATCH_HINTS.find(([pattern]) => pattern.test(said))?.[1] ??
    "see sbatch's message above; `modelrun run --dry-run` shows the batch script and how it is submitted"
  );
}
