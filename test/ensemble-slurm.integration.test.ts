import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnsembleRecord } from '../src/model/ensemble-record.js';
import { runModelrun, startModelrun } from './helpers/cli.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { studyEnsemble, studyTree } from './helpers/ensemble-study.js';
import { clusterTimeout, queued, TEST_JOB_YAML } from './helpers/slurm.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';
import { copyWaveExample } from './helpers/wave-example.js';

const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** How long the members take once they run, two at a time; the queue wait comes on top. */
const RUN_MS = 60_000;

const tree = makeTree({
  ...studyTree('cat values.txt; test $(cat values.txt) != depth=10,width=2'),
  // Each call of a Slurm command leaves a line in calls.log, then runs the real one.
  ...Object.fromEntries(
    ['sbatch', 'scontrol', 'squeue', 'scancel'].map((command) => [
      `shim/${command}`,
      `#!/bin/sh\necho "${command} $*" >> "$SHIM_LOG"\nPATH="$REAL_PATH" exec ${command} "$@"\n`,
    ]),
  ),
});
for (const command of ['sbatch', 'scontrol', 'squeue', 'scancel'])
  chmodSync(tree.path('shim', command), 0o755);
afterAll(() => tree.remove());

const record = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as EnsembleRecord;

/** The environment that runs modelrun through the shims, logging every Slurm command it calls. */
function shimmed(log: string): NodeJS.ProcessEnv {
  return {
    PATH: `${tree.path('shim')}:${process.env.PATH}`,
    REAL_PATH: process.env.PATH,
    SHIM_LOG: log,
    // The array's log goes to modelrun's state folder: the test's own, not the user's.
    XDG_STATE_HOME: tree.path('state'),
  };
}

function backendYaml(): string {
  return `backend:\n  type: slurm\n${TEST_JOB_YAML.replace(/^/gm, '  ').trimEnd()}\n`;
}

describe.skipIf(missing !== undefined)('an ensemble on a real Slurm cluster', () => {
  it(
    'runs a 2×3 product and 2 listed members as one job array, followed by one query per poll',
    async () => {
      const id = uniqueId('ens');
      tree.write(`${id}.yml`, studyEnsemble(id, backendYaml(), 2));
      const log = tree.path(`${id}.calls`);
      const started = Date.now();
      const result = await runModelrun(['ensemble', `${id}.yml`], {
        cwd: tree.root,
        env: shimmed(log),
      });
      const seconds = (Date.now() - started) / 1000;
      const dir = tree.path('simulations', id);
      // d10-w2 fails on purpose: its exit code reaches its member, and the others go on.
      expect(result.code, result.stderr).toBe(1);
      const ended = record(dir);
      expect(ended.members.map((m) => [m.run_id, m.status, m.exit_code])).toEqual([
        ['d5-w1', 'succeeded', 0],
        ['d5-w2', 'succeeded', 0],
        ['d5-w3', 'succeeded', 0],
        ['d10-w1', 'succeeded', 0],
        ['d10-w2', 'failed', 1],
        ['d10-w3', 'succeeded', 0],
        ['d50-w7', 'succeeded', 0],
        ['d60-w8', 'succeeded', 0],
      ]);
      // A task that began and ended between two looks still has its times, from Slurm's StartTime.
      for (const member of ended.members) {
        expect(member.started_at, member.run_id).not.toBeNull();
        expect(member.duration_s, member.run_id).not.toBeNull();
      }
      expect(readFileSync(join(dir, 'd50-w7', 'logs', 'stdout.log'), 'utf8')).toBe(
        'depth=50,width=7\n',
      );
      const task = ended.members[6]?.handle?.id as string;
      expect(task).toMatch(/^\d+_6$/);
      expect(existsSync(join(dir, 'd50-w7', 'logs', `slurm-${task}.out`))).toBe(true);
      // The array's own log is in a folder only modelrun writes, where no member's model can
      // put a link for Slurm to write through; the status line names it, and the script.
      const logs = tree.path('state', 'modelrun', 'ensembles');
      const array = /submitted job array (\d+) .*; script (\S+); log (\S+)\n/.exec(result.stderr);
      expect(array?.[2]).toBe(join(dir, '.modelrun', 'slurm-array-0.sh'));
      expect(array?.[3]).toBe(join(logs, `${id}-slurm-array-${array?.[1]}.log`));
      expect(existsSync(array?.[3] ?? '')).toBe(true);
      const script = readFileSync(array?.[2] ?? '', 'utf8');
      expect(script).toContain(`#SBATCH --output="${logs}/${id}-slurm-array-%A.log"\n`);
      expect(script).toContain(`#SBATCH --error="${logs}/${id}-slurm-array-%A.log"\n`);
      expect(readdirSync(join(dir, '.modelrun')).filter((name) => name.endsWith('.log'))).toEqual(
        [],
      );
      const folder = lstatSync(logs);
      expect(folder.isDirectory()).toBe(true);
      expect([folder.uid, folder.mode & 0o777]).toEqual([process.getuid?.(), 0o700]);
      const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as EnsembleRecord;
      expect(seen.members.filter((m) => m.status === 'succeeded')).toHaveLength(7);

      const calls = readFileSync(log, 'utf8').trim().split('\n');
      // The check asks `sbatch --version`; a submission is `sbatch --parsable`.
      const submissions = calls.filter((c) => c.startsWith('sbatch --parsable'));
      expect(submissions, calls.join('\n')).toHaveLength(1);
      expect(submissions[0]).toContain('--array=0-7%2');
      // One look at the whole array a second: never one per member.
      const looks = calls.filter((c) => /^(scontrol show job|squeue)/.test(c)).length;
      expect(looks, calls.join('\n')).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'runs the example wave study as one job array, and tabulates it',
    async () => {
      const id = uniqueId('wave-study');
      const example = copyWaveExample(tree, id);
      writeFileSync(join(example, 'slurm.yml'), `type: slurm\n${TEST_JOB_YAML}`);
      const log = tree.path(`${id}.calls`);
      const result = await runModelrun(
        ['ensemble', 'ensemble.yml', '--backend-config', 'slurm.yml'],
        {
          cwd: example,
          env: shimmed(log),
        },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`✓ ensemble ${id} succeeded: 6 succeeded of 6 members`);
      const calls = readFileSync(log, 'utf8').split('\n');
      expect(calls.filter((c) => c.startsWith('sbatch --parsable'))).toEqual([
        expect.stringContaining('--array=0-5%2'),
      ]);
      const rows = readFileSync(join(example, 'simulations', id, 'members.csv'), 'utf8')
        .trim()
        .split('\n');
      expect(rows).toHaveLength(7);
      expect(rows.slice(1).every((row) => row.includes(',succeeded,'))).toBe(true);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'on Ctrl-C in the middle of the array, cancels every task and leaves nothing in the queue',
    async () => {
      const id = uniqueId('ens-stop');
      tree.write(
        `${id}.yml`,
        `model: slow.yml\nensemble_id: ${id}\n${backendYaml()}replicas: 4\nmax_parallel: 2\n`,
      );
      const dir = tree.path('simulations', id);
      const { child, exited, output } = await startModelrun(['ensemble', `${id}.yml`], {
        cwd: tree.root,
        marker: 'submitted job array',
        markerOn: 'stderr',
        waitMs: 30_000,
      });
      // Once a member runs, its task is in the middle of its sleep.
      const deadline = Date.now() + clusterTimeout(0) - 30_000;
      while (Date.now() < deadline && !output().stderr.includes(' running')) await sleep(100);
      // `status` on a member that runs reads its array task's handle, from any terminal.
      let running: string | undefined;
      while (Date.now() < deadline && running === undefined) {
        running = existsSync(join(dir, 'ensemble.json'))
          ? record(dir).members.find((m) => m.status === 'running')?.run_dir
          : undefined;
        if (running === undefined) await sleep(250);
      }
      const status = await runModelrun(['status', running ?? ''], { cwd: tree.root });
      // Checked after the Ctrl-C: a failed look must not leave the ensemble running.
      child.kill('SIGINT');
      expect(status.stdout, status.stderr).toMatch(/job \d+_\d+ RUNNING/);
      expect(await exited).toBe(130);
      expect(queued(`modelrun-${id}`)).toEqual([]);
      const ended = record(dir);
      expect(ended.status).toBe('cancelled');
      expect(ended.members.every((m) => m.status === 'cancelled')).toBe(true);
    },
    clusterTimeout(RUN_MS),
  );

  it(
    'runs members that differ in a secret, one array each, no more of them at once than max_parallel',
    async () => {
      const id = uniqueId('ens-lanes');
      // Each task writes when it began and ended, in ns: ensemble.json sees a
      // task run only if a look falls while it runs, which a loaded cluster can miss.
      tree.write(
        `${id}-nap.yml`,
        'run_id: nap\ncommand: "date +%s%N > began; sleep 2; date +%s%N > ended"\n',
      );
      tree.write(
        `${id}.yml`,
        `model: ${id}-nap.yml\nensemble_id: ${id}\n${backendYaml()}max_parallel: 1\nparameters:\n  backend.env_vars.MY_TOKEN: [first, second]\n`,
      );
      const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/submitted job array (\d+) .*\n.*once array \1 has ended/);
      const [first, second] = record(tree.path('simulations', id)).members;
      const at = (dir: string | undefined, file: string) =>
        BigInt(readFileSync(join(dir ?? '', file), 'utf8').trim());
      // The second array's task started only once the first's had ended.
      expect(at(second?.run_dir, 'began') >= at(first?.run_dir, 'ended')).toBe(true);
    },
    clusterTimeout(RUN_MS),
  );
});
