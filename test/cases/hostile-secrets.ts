import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostileCase, HostilePaths, HostileRun } from '../helpers/hostile.js';

/**
 * Secrets whose values read like what modelrun writes itself. The model
 * checks run.json as modelrun wrote it at the start (the record the guardian
 * reads), and the run succeeds only if its status and type are intact.
 */
const RUN_ID = 'hostile-secret';
const CHECK_RECORD =
  'grep -q \'"status": "running"\' .modelrun/run.json && grep -q \'"type": "local"\' .modelrun/run.json';
const SUCCEEDED = new RegExp(`✓ ${RUN_ID} succeeded \\(exit code 0`);

function stagingDir(dir: string): string {
  return join(dir, 'simulations', RUN_ID);
}

/** A local run whose backend gives MY_TOKEN `value`: through ${MY_TOKEN}, or written as YAML as it is. */
function secretRun(
  { dir }: HostilePaths,
  value: string,
  how: 'env' | 'yaml',
  extraArgs: string[] = [],
): HostileRun {
  writeFileSync(
    join(dir, 'model.yml'),
    `run_id: ${RUN_ID}\ncommand: ${JSON.stringify(CHECK_RECORD)}\n`,
  );
  writeFileSync(
    join(dir, 'backend.yml'),
    `type: local\nenv_vars:\n  MY_TOKEN: ${how === 'env' ? '${MY_TOKEN}' : value}\n`,
  );
  return {
    args: ['run', 'model.yml', '--backend-config', 'backend.yml', ...extraArgs],
    ...(how === 'env' ? { env: { MY_TOKEN: value } } : {}),
    exit: [0],
    says: extraArgs.includes('--json') ? /"status": "succeeded"/ : SUCCEEDED,
    keep: ['model.yml', 'backend.yml'],
  };
}

const byValue = (label: string, value: string): HostileCase => ({
  name: `a secret env var whose value is ${label}`,
  setup: (paths) => secretRun(paths, value, 'env'),
});

export const hostileCases: HostileCase[] = [
  {
    // As in a detached run's supervisor, whose --set values (a secret among them) are in this variable.
    name: "a model file that reads modelrun's own hand-over variable through ${VAR}",
    setup: ({ dir }) => {
      writeFileSync(
        join(dir, 'model.yml'),
        `run_id: ${RUN_ID}\ncommand: "echo \${MODELRUN_DETACHED_OVERRIDES}"\n`,
      );
      return {
        args: ['run', 'model.yml'],
        env: { MODELRUN_DETACHED_OVERRIDES: '[["--set","backend.env_vars.API_TOKEN=hunter2"]]' },
        exit: [2],
        says: "MODELRUN_DETACHED_OVERRIDES is modelrun's own variable",
        keep: ['model.yml'],
      };
    },
  },
  byValue('"running"', 'running'),
  byValue('"local"', 'local'),
  byValue('"succeeded"', 'succeeded'),
  byValue('one character', 's'),
  {
    name: 'a secret env var whose value is "succeeded", with --json',
    setup: (paths) => secretRun(paths, 'succeeded', 'env', ['--json']),
  },
  {
    name: "a secret env var whose value is the run's staging dir",
    setup: (paths) => secretRun(paths, stagingDir(paths.dir), 'env'),
  },
  {
    name: 'a secret written in the file as the number 0',
    setup: (paths) => secretRun(paths, '0', 'yaml'),
  },
  {
    name: 'a secret written in the file as true',
    setup: (paths) => secretRun(paths, 'true', 'yaml'),
  },
  {
    name: 'a secret written in the file as an empty string',
    setup: (paths) => secretRun(paths, '""', 'yaml'),
  },
  {
    name: 'a command postprocessor whose secret reads "succeeded"',
    setup: ({ dir }) => {
      writeFileSync(join(dir, 'model.yml'), `run_id: ${RUN_ID}\ncommand: "true"\n`);
      writeFileSync(
        join(dir, 'post.yml'),
        'type: command\ncommand: "true"\nenv_vars:\n  PLOT_TOKEN: succeeded\n',
      );
      return {
        args: ['run', 'model.yml', '--postprocessor-config', 'post.yml'],
        exit: [0],
        says: /✓ command: `true` succeeded/,
        keep: ['model.yml', 'post.yml'],
      };
    },
  },
];
