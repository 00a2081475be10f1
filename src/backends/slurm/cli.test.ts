import { describe, expect, it } from 'vitest';
import { RunFailedError } from '../../errors.js';
import { slurmFailure } from './cli.js';

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
