import { describe, expect, it } from 'vitest';
import { EngineUnavailableError, RunFailedError } from '../../errors.js';
import { slurmCommand, slurmFailure } from './cli.js';

const refused = (stderr: string) => slurmFailure('sbatch', { code: 1, stdout: '', stderr });

describe("sbatch's refusals", () => {
  it.each([
    ['Batch job submission failed: Invalid partition name specified', /^check `queue`/],
    [
      'Batch job submission failed: Invalid account or account/partition combination specified',
      /^check `account`/,
    ],
    ['Batch job submission failed: Invalid qos specification', /^check `qos`/],
    ['Batch job submission failed: Requested reservation is invalid', /^check `reservation`/],
    ['Batch job submission failed: Invalid feature specification', /^check `constraint`/],
    ['Batch job submission failed: Invalid generic resource (gres) specification', /^check `gres`/],
    [
      'Batch job submission failed: Invalid license specification',
      /licenses in `additional_options`/,
    ],
    [
      'Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)',
      /^check `time_limit`/,
    ],
    [
      'Batch job submission failed: Requested node configuration is not available',
      /^ask for fewer resources/,
    ],
    [
      "Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      /breaks a limit of your account or QOS/,
    ],
    ["sbatch: unrecognized option '--bogus'", /^check `additional_options`/],
    [
      'sbatch: error: Invalid directive found in batch script: logs/x.out',
      /^check `additional_options`/,
    ],
    ['sbatch: error: something new', /^see sbatch's message above; `modelrun run --dry-run`/],
  ])('%s: the hint says what to check', (stderr, hint) => {
    const error = refused(`sbatch: error: ${stderr}\n`);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toContain(stderr);
    expect((error as RunFailedError).hint).toMatch(hint);
  });
});

describe('running a Slurm command', () => {
  const PATH = process.env.PATH ?? '/usr/bin:/bin';

  it('keeps the exit code and both streams whole, final newline and all', async () => {
    expect(await slurmCommand('sh', ['-c', 'echo 12; echo warned >&2; exit 3'], { PATH })).toEqual({
      code: 3,
      stdout: '12\n',
      stderr: 'warned\n',
    });
  });

  it('gives the command only the environment it is handed', async () => {
    const { stdout } = await slurmCommand('sh', ['-c', 'echo "[$A] [$HOME]"'], { PATH, A: 'a' });
    expect(stdout).toBe('[a] []\n');
  });

  it('counts a command that ran out of time as failed', async () => {
    expect((await slurmCommand('sleep', ['5'], { PATH }, 100)).code).toBe(1);
  });

  it('names a command that is not on PATH, and where Slurm is found', async () => {
    const error = await slurmCommand('sbatch', [], { PATH: '/nonexistent' }).catch((e) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(error.message).toBe('sbatch is not on PATH, so Slurm cannot be used from here');
    expect(error.hint).toBe(
      'run modelrun on a login node of the cluster, or load Slurm first (`module load slurm`)',
    );
  });
});
