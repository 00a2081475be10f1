import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerUnavailable, slurmUnavailable } from '../helpers/engines.js';
import type { HostileCase } from '../helpers/hostile.js';

/** A docker container inside a Slurm job: what the job hands the container. */

let engines: string | undefined | null = null;
const noEngines = () => {
  if (engines === null) engines = slurmUnavailable() ?? dockerUnavailable();
  return engines === undefined ? undefined : `no Slurm cluster or Docker engine: ${engines}`;
};

export const hostileCases: HostileCase[] = [
  {
    // Docker's --env-file cannot carry a line break; the container now takes the value by name.
    name: 'run: slurm job with a docker container, and an env var whose value spans lines',
    skip: noEngines,
    setup: ({ dir }) => {
      const runId = `hostile-sd-${randomBytes(4).toString('hex')}`;
      writeFileSync(
        join(dir, 'model.yml'),
        `run_id: ${runId}\ncommand: 'printf "%s\\n" "$NOTE"'\n`,
      );
      writeFileSync(
        join(dir, 'slurm.yml'),
        [
          'type: slurm',
          'cpus_per_task: 1',
          'mem: 100M',
          'time_limit: "00:05:00"',
          'env_vars:',
          '  NOTE: "line one\\nline two"',
          'container:',
          '  type: docker',
          '  image: modelrun-test/busybox',
          '  pull_policy: never',
          '',
        ].join('\n'),
      );
      return {
        args: ['run', 'model.yml', '--backend-config', 'slurm.yml'],
        exit: [0],
        says: /line one\nline two/,
        keep: ['model.yml', 'slurm.yml'],
        // The job may wait minutes behind the jobs of others on the shared cluster.
        timeoutS: 400,
      };
    },
  },
];
