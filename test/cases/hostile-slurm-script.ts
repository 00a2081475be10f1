import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase } from '../helpers/hostile.js';

/**
 * Values that would end or split a line of a Slurm batch script: a line
 * break would end the #SBATCH lines and run the rest on the node. All are
 * refused before anything is submitted, so no row needs a cluster.
 */

const MODEL = 'run_id: hostile-slurm\ncommand: "true"\n';
const SMALL = 'cpus_per_task: 1\nmem: 100M\ntime_limit: "00:05:00"\n';

/** A slurm config with one field as YAML writes it, run through `run --dry-run`, with an env. */
function fieldRow(
  name: string,
  field: string,
  env: Record<string, string>,
  says: RegExp,
): HostileCase {
  return {
    name,
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'model.yml'), MODEL);
      writeFileSync(join(dir, 'slurm.yml'), `type: slurm\n${SMALL}${field}`);
      return {
        args: ['run', 'model.yml', '--backend-config', 'slurm.yml', '--dry-run'],
        env,
        exit: [2],
        says,
        keep: ['model.yml', 'slurm.yml'],
      };
    },
  };
}

export const hostileCases: HostileCase[] = [
  fieldRow(
    'slurm job_name with a newline and a command after it',
    'job_name: "wave\\nrm -rf ~"\n',
    {},
    /job_name: cannot hold a line feed \(\\x0a\)/,
  ),
  fieldRow(
    'slurm job_name with a newline, read with ${VAR}',
    'job_name: ${JOB_NAME}\n',
    { JOB_NAME: 'wave\n#SBATCH --partition=other\necho injected' },
    /job_name: cannot hold a line feed \(\\x0a\)/,
  ),
  fieldRow(
    'slurm account with a Unicode line separator',
    'account: "ocean\\u2028echo injected"\n',
    {},
    /account: cannot hold a line separator \(\\u2028\)/,
  ),
  fieldRow(
    'slurm queue with a tab',
    'queue: "debug\\tcompute"\n',
    {},
    /queue: cannot hold a tab \(\\x09\)/,
  ),
  fieldRow(
    'slurm constraint with a NEL',
    'constraint: "skylake\\x85x"\n',
    {},
    /constraint: cannot hold a next-line character \(NEL\) \(\\x85\)/,
  ),
  fieldRow(
    'slurm additional option with a carriage return',
    'additional_options: ["--comment=a\\rb"]\n',
    {},
    /additional_options\[0\]: cannot hold a carriage return \(\\x0d\)/,
  ),
  fieldRow(
    'slurm output_file with a line separator, read with ${VAR}',
    'output_file: ${OUT}\n',
    { OUT: 'logs/\u2028%j.out' },
    /output_file: cannot hold a line separator \(\\u2028\)/,
  ),
  fieldRow(
    'slurm --export=NONE beside a secret variable',
    'env_vars:\n  API_TOKEN: ${SRC_TOKEN}\nadditional_options: ["--export=NONE"]\n',
    { SRC_TOKEN: 'tok-0123456789abcdef' },
    /additional_options\[0\]: --export=NONE leaves no way to give the job API_TOKEN/,
  ),
  {
    name: 'slurm run from a folder whose path holds a newline',
    setup: ({ dir }) => {
      const folder = join(dir, 'a\nb');
      mkdirSync(folder);
      writeFileSync(join(folder, 'model.yml'), MODEL);
      writeFileSync(join(folder, 'slurm.yml'), `type: slurm\n${SMALL}`);
      return {
        args: ['run', 'a\nb/model.yml', '--backend-config', 'a\nb/slurm.yml', '--dry-run'],
        exit: [2],
        says: /the staging directory cannot hold a line feed/,
        keep: ['a\nb/model.yml', 'a\nb/slurm.yml'],
      };
    },
  },
];
