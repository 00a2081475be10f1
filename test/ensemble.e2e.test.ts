import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { identify, statFields } from '../src/exec/process-identity.js';
import type { EnsembleRecord } from '../src/model/ensemble-record.js';
import { runModelrun, startModelrun } from './helpers/cli.js';
import { detachAndHangUp } from './helpers/detach.js';
import { catchesSignal, isRunning, waitFor, waitUntilGone } from './helpers/processes.js';
import { makeTree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/** `modelrun ensemble` on the local backend, through the built CLI. */

const tree = makeTree({
  'model.yml': [
    'run_id: base',
    'template: ./template',
    'config:',
    '  depth: 1',
    '  width: 1',
    // Fails when the test made the flag file of its values: $FAIL_FLAG-<depth>-<width>.
    'command: "cat values.txt; test ! -e \\"$FAIL_FLAG-$(cat flag.txt)\\""',
    '',
  ].join('\n'),
  'template/flag.txt': '{{ config.depth }}-{{ config.width }}',
  'template/values.txt':
    'depth={{ config.depth }} width={{ config.width }} short={{ member.depth }} index={{ member.index }} replica={{ member.replica }}\n',
  'slow.yml': 'run_id: slow\ncommand: "echo started; sleep 300 & echo $! > sleep.pid; wait"\n',
});
afterAll(() => tree.remove());

/** ensemble.json once it no longer says running: its guardian ends it after modelrun is gone. */
async function endedRecord(dir: string): Promise<EnsembleRecord> {
  let ended = record(dir);
  for (let i = 0; i < 200 && ended.status === 'running'; i++) {
    await sleep(25);
    ended = record(dir);
  }
  return ended;
}

/** An ensemble file of a 2×3 product and 2 listed members, into a folder of its own. */
function study(extra = ''): { file: string; dir: string } {
  const id = uniqueId('study');
  const file = `${id}.yml`;
  tree.write(
    file,
    [
      'model: model.yml',
      `ensemble_id: ${id}`,
      'output_dir: ./out',
      'run_id: d{{ member.depth }}-w{{ member.width }}',
      'parameters:',
      '  config.depth: [5, 10]',
      '  config.width: [1, 2, 3]',
      'members:',
      '  - config.depth: 50',
      '    config.width: 7',
      '  - config.depth: 60',
      '    config.width: 8',
      'max_parallel: 3',
      'aggregate:',
      '  - type: command',
      '    command: "cp ensemble.json seen.json"',
      extra,
    ].join('\n'),
  );
  return { file, dir: tree.path('out', id) };
}

const record = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'ensemble.json'), 'utf8')) as EnsembleRecord;

/** A whole ensemble.json of a running ensemble of no members in `dir`, as modelrun writes one. */
function wholeRecord(dir: string, more: Partial<EnsembleRecord> = {}): EnsembleRecord {
  return {
    ensemble_id: 'forged',
    file: join(dir, 'forged.yml'),
    dir,
    status: 'running',
    started_at: new Date().toISOString(),
    ended_at: null,
    duration_s: null,
    backend: { type: 'local' },
    max_parallel: 1,
    fail_fast: false,
    totals: {
      members: 0,
      pending: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0,
    },
    members: [],
    aggregate: [],
    modelrun_version: '0.0.0',
    ...more,
  };
}

const RUN_IDS = ['d5-w1', 'd5-w2', 'd5-w3', 'd10-w1', 'd10-w2', 'd10-w3', 'd50-w7', 'd60-w8'];

describe('an ensemble on the local backend', () => {
  it('runs every member with its values, then the aggregate step once, seeing every end', async () => {
    const { file, dir } = study();
    const result = await runModelrun(['ensemble', file], { cwd: tree.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('succeeded: 8 succeeded of 8 members');
    const ended = record(dir);
    expect(ended.members.map((m) => [m.run_id, m.status, m.exit_code])).toEqual(
      RUN_IDS.map((runId) => [runId, 'succeeded', 0]),
    );
    expect(ended.members[6]?.parameters).toEqual({ 'config.depth': 50, 'config.width': 7 });
    expect(ended.totals).toMatchObject({ members: 8, succeeded: 8, failed: 0 });
    // Each member's template saw its own values, as config and as member.
    expect(readFileSync(join(dir, 'd10-w2', 'values.txt'), 'utf8')).toBe(
      'depth=10 width=2 short=10 index=4 replica=0\n',
    );
    expect(readFileSync(join(dir, 'd10-w2', 'logs', 'stdout.log'), 'utf8')).toContain('depth=10');
    // The aggregate step ran in the ensemble's folder, after every member had ended.
    const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as EnsembleRecord;
    expect(seen.members.every((m) => m.status === 'succeeded')).toBe(true);
    expect(ended.aggregate).toEqual([
      expect.objectContaining({ type: 'command', status: 'succeeded' }),
    ]);
    const runRecord = JSON.parse(
      readFileSync(join(dir, 'd50-w7', '.modelrun', 'run.json'), 'utf8'),
    ) as { member: unknown };
    expect(runRecord.member).toEqual({
      ensemble_dir: dir,
      index: 6,
      replica: 0,
      parameters: { 'config.depth': 50, 'config.width': 7 },
    });
    // The ensemble file names its ensemble, as a model file names its run.
    const status = await runModelrun(['status', file, '--json'], { cwd: tree.root });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      ensemble_dir: dir,
      record: { status: 'succeeded' },
    });
  });

  // On the old code the summary pointed at the logs of a member that was never
  // staged, and that command failed.
  it('points at the logs of a failed member only when it was staged', async () => {
    const { file, dir } = study();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'd5-w1'), "a file of the user's\n");
    const result = await runModelrun(['ensemble', file], { cwd: tree.root });
    expect(result.code).toBe(1);
    const line = result.stderr.split('\n').find((l) => l.includes('failed   d5-w1'));
    expect(line).toContain('is not a folder, which modelrun did not make');
    expect(line).not.toContain('logs:');
    expect(readFileSync(join(dir, 'd5-w1'), 'utf8')).toBe("a file of the user's\n");
  });

  it('says of an ensemble file that has not run that its folder holds no ensemble.json', async () => {
    const { file, dir } = study();
    const status = await runModelrun(['status', file], { cwd: tree.root });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(
      `${file} is an ensemble file, and its folder ${dir} holds no ensemble.json`,
    );
    expect(status.stderr).not.toContain('unknown key');
  });

  it('lets the others finish when a member fails, exits 1, and --resume reruns only that one', async () => {
    const { file, dir } = study();
    const flag = tree.path(uniqueId('fail'));
    writeFileSync(`${flag}-10-2`, '');
    const env = { FAIL_FLAG: flag };
    const failed = await runModelrun(['ensemble', file], { cwd: tree.root, env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('failed: 7 succeeded, 1 failed of 8 members');
    expect(failed.stderr).toMatch(/failed {3}d10-w2 \(exit 1\).*logs: modelrun logs .*d10-w2/);
    expect(
      record(dir)
        .members.filter((m) => m.status === 'failed')
        .map((m) => m.run_id),
    ).toEqual(['d10-w2']);

    rmSync(`${flag}-10-2`);
    const resumed = await runModelrun(['ensemble', file, '--resume'], { cwd: tree.root, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('skipped  7 that succeeded before with the same inputs');
    const after = record(dir);
    expect(after.members.map((m) => m.status)).toEqual([
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'succeeded',
      'skipped',
      'skipped',
      'skipped',
    ]);

    // Another value of the model is another input: every member runs again.
    const changed = await runModelrun(['ensemble', file, '--resume', '--set', 'config.extra=1'], {
      cwd: tree.root,
      env,
    });
    expect(changed.code, changed.stderr).toBe(0);
    expect(record(dir).totals).toMatchObject({ succeeded: 8, skipped: 0 });
    // Three ensembles of eight: 3 s here, and past 20 s once under CI's load.
  }, 60_000);

  it('resumes a project copied elsewhere as a whole: the same inputs, where they now are', async () => {
    const project = tree.path(uniqueId('project'));
    tree.write(
      `${project.split('/').at(-1)}/model.yml`,
      'run_id: p\ntemplate: ./template\ncommand: "cat in.txt"\n',
    );
    tree.write(`${project.split('/').at(-1)}/template/in.txt`, '{{ member.x }}\n');
    tree.write(
      `${project.split('/').at(-1)}/ensemble.yml`,
      'model: model.yml\noutput_dir: ./out\nparameters:\n  config.x: [1, 2]\n',
    );
    const first = await runModelrun(['ensemble', 'ensemble.yml'], { cwd: project });
    expect(first.code, first.stderr).toBe(0);
    const copy = `${project}-copy`;
    cpSync(project, copy, { recursive: true });
    const resumed = await runModelrun(['ensemble', 'ensemble.yml', '--resume'], { cwd: copy });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('skipped  2 that succeeded before with the same inputs');
  });

  it('runs only the members --only names, by index or run id, and keeps the others on record', async () => {
    const { file, dir } = study();
    const first = await runModelrun(['ensemble', file, '--only', '0,d60-w8'], { cwd: tree.root });
    expect(first.code, first.stderr).toBe(0);
    const kept = record(dir);
    expect(kept.members.filter((m) => m.status === 'succeeded').map((m) => m.run_id)).toEqual([
      'd5-w1',
      'd60-w8',
    ]);
    expect(kept.totals).toMatchObject({ pending: 6, succeeded: 2 });
    expect(existsSync(join(dir, 'd5-w2'))).toBe(false);
    const unknown = await runModelrun(['ensemble', file, '--only', 'd99'], { cwd: tree.root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--only d99: the ensemble has no such member');
  });

  it('streams the output of the member --follow names, and only its, live', async () => {
    const { file } = study();
    const result = await runModelrun(['ensemble', file, '--follow', 'd5-w2'], { cwd: tree.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('depth=5 width=2 short=5 index=1 replica=0\n');
  });

  it('takes a run id that reads as a number for that member, not an index, and --follow only among --only', async () => {
    const id = uniqueId('numbers');
    tree.write(
      `${id}.yml`,
      `model: slow.yml\nensemble_id: ${id}\nrun_id: "{{ member.n }}"\nmembers:\n  - {config.n: 3}\n  - {config.n: 2}\n  - {config.n: 1}\n`,
    );
    const listed = await runModelrun(
      ['ensemble', `${id}.yml`, '--only', '3', '--dry-run', '--json'],
      {
        cwd: tree.root,
      },
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).members).toEqual([
      { index: 0, run_id: '3', parameters: { 'config.n': 3 } },
    ]);
    const apart = await runModelrun(['ensemble', `${id}.yml`, '--only', '3', '--follow', '2'], {
      cwd: tree.root,
    });
    expect(apart.code).toBe(2);
    expect(apart.stderr).toContain('--follow 2: that member is not one --only runs');
  });

  it("writes a failed member's stderr without the escape sequences the model put in it", async () => {
    const id = uniqueId('escapes');
    tree.write(
      `${id}.yml`,
      `model:\n  run_id: e\n  command: "printf 'boom\\\\033]0;PWNED\\\\007\\\\033[2J' >&2; exit 3"\nensemble_id: ${id}\n`,
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stderr: boom\\x1b]0;PWNED\\x07\\x1b[2J');
    expect(result.stderr).not.toContain('\u001b');
  });

  it('prints ensemble.json on stdout with --json, and nothing else', async () => {
    const { file } = study();
    const result = await runModelrun(['ensemble', file, '--json', '--only', '1'], {
      cwd: tree.root,
    });
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as EnsembleRecord;
    expect(printed.members[1]).toMatchObject({ run_id: 'd5-w2', status: 'succeeded' });
  });

  it('lists the members with --dry-run and what would run for the first, creating nothing', async () => {
    const { file, dir } = study();
    const result = await runModelrun(['ensemble', file, '--dry-run'], { cwd: tree.root });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('8 of 8 members');
    expect(result.stdout).toMatch(/ {3}4 {2}d10-w2 {2}config\.depth=10 config\.width=2/);
    expect(result.stdout).toContain('the first, d5-w1:');
    expect(result.stdout).toContain('dry run: nothing was staged or started');
    expect(existsSync(dir)).toBe(false);
  });

  it("says with --dry-run how an engine that batches the members submits them: Slurm's array", async () => {
    const { file, dir } = study();
    tree.write('slurm-plan.yml', 'type: slurm\nmem: 100M\n');
    const result = await runModelrun(
      ['ensemble', file, '--backend-config', 'slurm-plan.yml', '--dry-run'],
      { cwd: tree.root },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `on slurm: the members go to Slurm as one job array per set of resources, usually one: sbatch --array=0-7%3 ${join(dir, '.modelrun', 'slurm-array-0.sh')}.`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('is checked member by member by validate, each problem placed where the ensemble file wrote it', async () => {
    const { file } = study();
    const valid = await runModelrun(['validate', file], { cwd: tree.root });
    expect(valid.code, valid.stdout).toBe(0);
    expect(valid.stdout).toContain('ensemble · 8 members');

    const id = uniqueId('bad');
    tree.write(
      `${id}.yml`,
      [
        'model: model.yml',
        'run_id: x-{{ member.depht }}',
        'parameters:',
        '  config.depth: [5, 10]',
        '  backend.timeout: [1h, soon]',
        '',
      ].join('\n'),
    );
    const bad = await runModelrun(['validate', `${id}.yml`], { cwd: tree.root });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      `${id}.yml:2:9  run_id: members 0 and 2: {{ member.depht }} names nothing; did you mean {{ member.depth }}?`,
    );
    expect(bad.stdout).toMatch(
      new RegExp(
        `${id}\\.yml:5:25  timeout: .*got "soon" \\(members 1 and 3: backend\\.timeout="soon"\\)`,
      ),
    );
  });

  it("says a member's warning as a warning, not among its errors", async () => {
    const id = uniqueId('warned');
    tree.write(
      `${id}.yml`,
      'model: model.yml\nmembers:\n  - {config.dept: 1, backend.timeout: soon}\n',
    );
    const result = await runModelrun(['validate', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 error');
    expect(result.stdout).toMatch(/warning .*config\.dept: config has no key "dept"/);
    expect(result.stdout).not.toMatch(/error .*warning:/);
  });

  it('refuses two members that would share a run id, naming both', async () => {
    const id = uniqueId('twins');
    tree.write(
      `${id}.yml`,
      'model: model.yml\nrun_id: same-{{ member.depth }}\nparameters:\n  config.depth: [5]\n  config.width: [1, 2]\n',
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('members 0 and 1 both get the run id same-5');
    expect(existsSync(tree.path('simulations', 'base'))).toBe(false);
  });
});

describe('a member that kills the helper that started it', () => {
  // On the old code the ensemble hung for ever: the members after it were sent
  // to the dead helper, and those running beside it were killed as it died.
  it('fails it and what the same helper ran, saying why, and runs every member to its end', async () => {
    const id = uniqueId('rude');
    tree.write(`${id}-template/n.txt`, '{{ config.n }}');
    tree.write(
      `${id}-model.yml`,
      `run_id: rude\ntemplate: ./${id}-template\nconfig: {n: 0}\ncommand: "echo ran >> runs; if [ $(cat n.txt) = 0 ]; then kill -KILL $PPID; fi; sleep 1; touch finished"\n`,
    );
    tree.write(
      `${id}.yml`,
      `model: ${id}-model.yml\nensemble_id: ${id}\nrun_id: rude-{{ member.n }}\nmax_parallel: 3\nparameters:\n  config.n: [0, 1, 2, 3, 4]\n`,
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    const dir = tree.path('simulations', id);
    const ended = record(dir);
    // Its exit status, and that of any member the same helper started, died
    // with the helper: those are failed, saying so. None was killed.
    expect(ended.members[0]).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/how it ended is not known/),
    });
    for (const member of ended.members.slice(1))
      expect(
        member.status === 'succeeded' || /how it ended is not known/.test(member.reason ?? ''),
      ).toBe(true);
    expect(ended.members.at(-1)?.status).toBe('succeeded');
    // Each ran once: one whose start was not yet told is not started again.
    for (const n of [0, 1, 2, 3, 4]) {
      expect(existsSync(join(dir, `rude-${n}`, 'finished'))).toBe(true);
      expect(readFileSync(join(dir, `rude-${n}`, 'runs'), 'utf8')).toBe('ran\n');
    }
    expect(result.code).toBe(1);
  });
});

describe('many members that kill the helper beside others', () => {
  // On the old code a start the dying helper had not yet made went to Node,
  // and its model's kill of $PPID then killed modelrun (exit 137).
  it('never lets a model kill modelrun: the starts a dying helper had not made go to a new one', {
    timeout: 60_000,
  }, async () => {
    const id = uniqueId('rowdy');
    tree.write(
      `${id}-model.yml`,
      `run_id: rowdy\nconfig: {k: 0}\ncommand: "if [ $(( {{ config.k }} % 2 )) = 0 ]; then kill -9 $PPID; fi; sleep 0.2"\n`,
    );
    const ks = Array.from({ length: 60 }, (_, k) => k).join(', ');
    tree.write(
      `${id}.yml`,
      `model: ${id}-model.yml\nensemble_id: ${id}\nrun_id: "r-{{ member.k }}"\nmax_parallel: 16\nparameters:\n  config.k: [${ks}]\n`,
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code, result.stderr).toBe(1);
    const ended = record(tree.path('simulations', id));
    expect(ended.status).toBe('failed');
    expect(ended.members.every((m) => m.status === 'succeeded' || m.status === 'failed')).toBe(
      true,
    );
  });
});

describe('stopping an ensemble', () => {
  /** Four members of a model that sleeps, two at once; resolves once both running ones wrote their pid. */
  async function startSlow(model = 'slow.yml') {
    const id = uniqueId('slow');
    tree.write(`${id}.yml`, `model: ${model}\nensemble_id: ${id}\nreplicas: 4\nmax_parallel: 2\n`);
    const dir = tree.path('simulations', id);
    const started = await startModelrun(['ensemble', `${id}.yml`], {
      cwd: tree.root,
      marker: 'slow-1 running',
      markerOn: 'stderr',
    });
    const pids = async () => {
      for (let i = 0; i < 200; i++) {
        const files = ['slow-0', 'slow-1'].map((m) => join(dir, m, 'sleep.pid'));
        if (files.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim() !== ''))
          return files.map((f) => Number(readFileSync(f, 'utf8')));
        await sleep(25);
      }
      throw new Error(`the members of ${id} did not start: ${started.output().stderr}`);
    };
    return { ...started, dir, pids: await pids() };
  }

  it('on Ctrl-C, cancels the running members, starts no other, and exits 130', async () => {
    const { child, exited, dir, pids, output } = await startSlow();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
    const ended = record(dir);
    expect(ended.status).toBe('cancelled');
    expect(ended.members.map((m) => [m.status, m.reason])).toEqual([
      ['cancelled', 'cancelled by SIGINT'],
      ['cancelled', 'cancelled by SIGINT'],
      ['cancelled', 'not started: the ensemble was cancelled by SIGINT'],
      ['cancelled', 'not started: the ensemble was cancelled by SIGINT'],
    ]);
    expect(existsSync(join(dir, 'slow-2'))).toBe(false);
    expect(output().stderr).toContain('cancelled: 0 succeeded, 4 cancelled of 4 members');
  });

  it('hears Ctrl-C while it checks ten thousand members, and exits at once having made nothing', async () => {
    const id = uniqueId('many');
    // A model of 2,000 settings, so that checking its 10,000 members takes
    // seconds: of a small one, they are checked before the Ctrl-C comes.
    const settings = Array.from({ length: 2000 }, (_, i) => `  k${i}: ${i}\n`).join('');
    tree.write(`${id}-model.yml`, `run_id: many\ncommand: "true"\nconfig:\n${settings}`);
    tree.write(`${id}.yml`, `model: ${id}-model.yml\nensemble_id: ${id}\nreplicas: 10000\n`);
    const { child, exited } = await startModelrun(['ensemble', `${id}.yml`], {
      cwd: tree.root,
      marker: 'never said',
      waitMs: 0,
    });
    // Once modelrun listens for interrupts, which under load may take seconds
    // (the check takes longer still): before, Node's own handler ends it by the
    // signal. Node catches SIGINT from its start, SIGHUP only once modelrun does.
    expect(await waitFor(() => catchesSignal(child.pid ?? 0, 'SIGHUP'), 20_000)).toBe(true);
    // Into the check, which takes seconds.
    await sleep(1000);
    const stopped = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - stopped).toBeLessThan(5000);
    expect(existsSync(tree.path('simulations', id))).toBe(false);
  });

  it('killed with SIGKILL, leaves no member running: its guardian stops them and ends the record', async () => {
    const { child, exited, dir, pids } = await startSlow();
    child.kill('SIGKILL');
    expect(await exited).toBe(null);
    for (const pid of pids) expect(await waitUntilGone(pid)).toBe(true);
    const ended = await endedRecord(dir);
    expect(ended.status).toBe('failed');
    expect(ended.members.map((m) => m.status)).toEqual([
      'failed',
      'failed',
      'cancelled',
      'cancelled',
    ]);
    expect(ended.members[0]?.reason).toMatch(/^modelrun ended before the ensemble did/);
    // The lock goes last, once everything else is undone.
    const lock = join(dir, '.modelrun', 'run.lock');
    for (let i = 0; i < 200 && existsSync(lock); i++) await sleep(25);
    expect(existsSync(lock)).toBe(false);
  });

  it('killed with SIGKILL while a model holds its launcher stopped, leaves no launcher behind', async () => {
    const id = uniqueId('stopper');
    tree.write(
      `${id}-model.yml`,
      'run_id: slow\ncommand: "echo $PPID > helper.pid; sleep 300 & echo $! > sleep.pid; kill -STOP $PPID; wait"\n',
    );
    tree.write(`${id}.yml`, `model: ${id}-model.yml\nensemble_id: ${id}\nreplicas: 1\n`);
    const member = tree.path('simulations', id, 'slow-0');
    const { child, exited } = await startModelrun(['ensemble', `${id}.yml`], {
      cwd: tree.root,
      marker: 'slow-0 running',
      markerOn: 'stderr',
    });
    const read = (file: string) => Number(readFileSync(join(member, file), 'utf8'));
    for (let i = 0; i < 400 && !existsSync(join(member, 'sleep.pid')); i++) await sleep(10);
    const helper = read('helper.pid');
    // Killed at once, before modelrun's own look at its launcher (a second apart) finds it stopped.
    for (let i = 0; i < 400 && statFields(helper)?.[0] !== 'T'; i++) await sleep(5);
    child.kill('SIGKILL');
    expect(await exited).toBe(null);
    expect(await waitUntilGone(helper, 10_000)).toBe(true);
    expect(await waitUntilGone(read('sleep.pid'), 10_000)).toBe(true);
  });

  // On the old code this left `aggregate: []`: nothing said the step had begun.
  it('killed with SIGKILL in the aggregate step, leaves a record that says which step did not end', async () => {
    const id = uniqueId('agg');
    tree.write('quick.yml', 'run_id: quick\ncommand: "true"\n');
    tree.write(
      `${id}.yml`,
      [
        'model: quick.yml',
        `ensemble_id: ${id}`,
        'replicas: 2',
        'aggregate:',
        '  - type: command',
        '    command: "echo first"',
        '  - type: command',
        '    command: "echo $$ > aggregate.pid; exec sleep 300"',
        '  - type: command',
        '    command: "echo third"',
        '',
      ].join('\n'),
    );
    const dir = tree.path('simulations', id);
    const { child, exited } = await startModelrun(['ensemble', `${id}.yml`], {
      cwd: tree.root,
      marker: 'never said',
      waitMs: 0,
    });
    const pidFile = join(dir, 'aggregate.pid');
    for (let i = 0; i < 400 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()); i++)
      await sleep(25);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    child.kill('SIGKILL');
    expect(await exited).toBe(null);
    expect(await waitUntilGone(pid)).toBe(true);
    const ended = await endedRecord(dir);
    expect(ended.status).toBe('failed');
    expect(ended.members.map((m) => m.status)).toEqual(['succeeded', 'succeeded']);
    // The first ended, the second did not, the third never started.
    expect(ended.aggregate).toMatchObject([
      { type: 'command', status: 'succeeded' },
      {
        type: 'command',
        status: 'failed',
        summary: expect.stringMatching(/^modelrun ended before the ensemble did/),
      },
    ]);
    expect(ended.aggregate).toHaveLength(2);
  });

  // On the old code the guardian could not tell a user's second Ctrl-C from a crash: failed.
  it('forced out by a second Ctrl-C, leaves its guardian to stop the members and record them cancelled', async () => {
    // Each member outlives the first SIGTERM (modelrun's), not the second (its guardian's).
    tree.write(
      'stubborn.yml',
      `run_id: slow\ncommand: "trap 'trap - TERM' TERM; echo $$ > sleep.pid; while :; do sleep 1 & wait $!; done"\n`,
    );
    const { child, exited, dir, pids, output } = await startSlow('stubborn.yml');
    child.kill('SIGINT');
    const heard = () => output().stderr.includes('press Ctrl-C again to exit at once');
    for (let i = 0; i < 400 && !heard(); i++) await sleep(25);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    for (const pid of pids) expect(await waitUntilGone(pid)).toBe(true);
    const ended = await endedRecord(dir);
    expect(ended.status).toBe('cancelled');
    expect(ended.members.map((m) => m.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(ended.members[0]?.reason).toMatch(
      /^interrupted \(SIGINT\): modelrun exited before its cleanup ended/,
    );
  });
});

/** Detaches the ensemble `<id>.yml` of slow members; its folder, and the pid of its first member's sleep once it runs. */
async function detachSlow(id: string): Promise<{ dir: string; pid: number }> {
  const started = await runModelrun(['ensemble', `${id}.yml`, '--detach'], { cwd: tree.root });
  expect(started.code, started.stderr).toBe(0);
  const dir = tree.path('simulations', id);
  const pidFile = join(dir, 'slow-0', 'sleep.pid');
  for (let i = 0; i < 400 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== ''); i++)
    await sleep(25);
  return { dir, pid: Number(readFileSync(pidFile, 'utf8')) };
}

describe('an ensemble run with --detach', () => {
  it('outlives the terminal that started it; wait on its folder sees it end, with its aggregate step run once', async () => {
    const id = uniqueId('detached');
    tree.write(
      `${id}.yml`,
      [
        'model: model.yml',
        `ensemble_id: ${id}`,
        'run_id: d{{ member.depth }}',
        'parameters:',
        '  config.depth: [1, 2, 3]',
        'aggregate:',
        '  - type: command',
        '    command: "echo aggregated >> aggregated.txt"',
        '',
      ].join('\n'),
    );
    const started = await detachAndHangUp([`${id}.yml`], { cwd: tree.root, command: 'ensemble' });
    expect(started.code, started.stderr).toBe(0);
    expect(started.leftBehind).toBe(false);
    const dir = tree.path('simulations', id);
    expect(started.stdout).toContain(`detached ensemble ${id} (3 members) on local`);
    expect(started.stdout).toContain(`wait      modelrun wait ${dir}`);

    const waited = await runModelrun(['wait', dir], { cwd: tree.root });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toContain(`ensemble ${id} succeeded: 3 succeeded of 3 members`);
    expect(readFileSync(join(dir, 'aggregated.txt'), 'utf8')).toBe('aggregated\n');
    const status = await runModelrun(['status', dir, '--json'], { cwd: tree.root });
    expect(JSON.parse(status.stdout)).toMatchObject({
      live: 'ended',
      record: { status: 'succeeded' },
    });
    // Its id names it under ./simulations, as a run id names a run.
    const byId = await runModelrun(['status', id, '--json'], { cwd: tree.root });
    expect(JSON.parse(byId.stdout)).toMatchObject({ ensemble_dir: dir });
    const logs = await runModelrun(['logs', dir], { cwd: tree.root });
    expect(logs.stdout).toContain('[3/3]');
    // The supervisor's log takes --tail and --json as a run's does; --stderr is a run's alone.
    const lines = logs.stdout.trimEnd().split('\n');
    const last = await runModelrun(['logs', dir, '--tail', '2'], { cwd: tree.root });
    expect(last.stdout).toBe(`${lines.slice(-2).join('\n')}\n`);
    const json = await runModelrun(['logs', dir, '--tail', '1', '--json'], { cwd: tree.root });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ensemble_dir: dir,
      ensemble_id: id,
      text: `${lines.at(-1)}\n`,
    });
    const stderr = await runModelrun(['logs', dir, '--stderr'], { cwd: tree.root });
    expect(stderr.code).toBe(2);
    expect(stderr.stderr).toContain("--stderr is for a run's log");
  });

  it('is stopped from another shell by cancel on its folder, with nothing left running', async () => {
    const id = uniqueId('detached-slow');
    tree.write(`${id}.yml`, `model: slow.yml\nensemble_id: ${id}\nreplicas: 3\nmax_parallel: 2\n`);
    const { dir, pid } = await detachSlow(id);
    const cancelled = await runModelrun(['cancel', dir], { cwd: tree.root });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled ensemble ${id}: cancelled`);
    expect(await waitUntilGone(pid)).toBe(true);
    expect(record(dir).members.map((m) => m.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    const status = await runModelrun(['status', dir], { cwd: tree.root });
    expect(status.code).toBe(1);
  });

  it('is not cancelled, waited for or called running through a copy of its folder', async () => {
    const id = uniqueId('detached-copied');
    tree.write(`${id}.yml`, `model: slow.yml\nensemble_id: ${id}\nreplicas: 2\n`);
    const { dir, pid } = await detachSlow(id);
    const copy = tree.path('copies', id);
    mkdirSync(tree.path('copies'), { recursive: true });
    execFileSync('cp', ['-a', dir, copy]);
    try {
      const cancelled = await runModelrun(['cancel', copy], { cwd: tree.root });
      expect(cancelled.code).toBe(1);
      expect(cancelled.stderr).toContain(
        `${copy} holds the record of another folder's ensemble: ${id} runs in ${dir}, not here`,
      );
      expect(cancelled.stderr).toContain('cancel the ensemble from the folder it was started in');
      expect(isRunning(pid)).toBe(true);
      expect(record(dir).status).toBe('running');

      const waited = await runModelrun(['wait', copy], { cwd: tree.root });
      expect(waited.code).toBe(1);
      expect(waited.stderr).toContain("holds the record of another folder's ensemble");
      const status = await runModelrun(['status', copy], { cwd: tree.root });
      expect(status.stdout).toContain("the record is another folder's");
      expect(status.stdout).not.toMatch(/^modelrun /m);
      const json = await runModelrun(['status', copy, '--json'], { cwd: tree.root });
      expect(JSON.parse(json.stdout)).toMatchObject({ ensemble_dir: copy, live: 'another-folder' });
    } finally {
      const stopped = await runModelrun(['cancel', dir], { cwd: tree.root });
      expect(stopped.code, stopped.stderr).toBe(0);
    }
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it('signals no process that a forged ensemble.json names as its modelrun', async () => {
    const dir = tree.path('forged', uniqueId('ens'));
    mkdirSync(dir, { recursive: true });
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    try {
      const owner = identify(bystander.pid as number);
      writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(wholeRecord(dir, { owner })));
      const result = await runModelrun(['cancel', dir], { cwd: tree.root });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'the modelrun that ran it has gone: there is nothing to signal',
      );
      expect(isRunning(bystander.pid as number)).toBe(true);
    } finally {
      bystander.kill();
    }
  });

  // On the old code cancel signalled whatever `modelrun ensemble` the record
  // named: a member could stop another ensemble by copying its owner.
  it("signals no other ensemble's modelrun that a rewritten ensemble.json names", async () => {
    const id = uniqueId('victim');
    tree.write(`${id}.yml`, `model: slow.yml\nensemble_id: ${id}\nreplicas: 1\n`);
    const started = await runModelrun(['ensemble', `${id}.yml`, '--detach'], { cwd: tree.root });
    expect(started.code, started.stderr).toBe(0);
    const victim = tree.path('simulations', id);
    try {
      const dir = tree.path('forged', uniqueId('ens'));
      mkdirSync(dir, { recursive: true });
      const { owner } = record(victim);
      writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(wholeRecord(dir, { owner })));
      const result = await runModelrun(['cancel', dir], { cwd: tree.root });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('there is nothing to signal');
      expect(record(victim).status).toBe('running');
    } finally {
      await runModelrun(['cancel', victim], { cwd: tree.root });
    }
  });

  it('refuses --detach with --dry-run or --follow, before anything starts', async () => {
    const { file } = study();
    for (const flag of [['--dry-run'], ['--follow', '0']]) {
      const result = await runModelrun(['ensemble', file, '--detach', ...flag], { cwd: tree.root });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--detach does not go with ${flag[0]}`);
    }
  });
});

describe("an ensemble's log, as ensemble.json names it", () => {
  const state = tree.path('log-state');
  const detached = join(state, 'modelrun', 'detached');
  const env = { XDG_STATE_HOME: state };
  const secret = tree.path('secret.txt');

  /** An ended ensemble's folder whose record names `log`, as a member could have rewritten it. */
  function namingLog(log: (dir: string) => string): string {
    mkdirSync(detached, { recursive: true, mode: 0o700 });
    writeFileSync(secret, 'root:not-for-the-model\n');
    const dir = tree.path('logged', uniqueId('ens'));
    mkdirSync(dir, { recursive: true });
    const record = wholeRecord(dir, { status: 'succeeded', ended_at: new Date().toISOString() });
    writeFileSync(join(dir, 'ensemble.json'), JSON.stringify({ ...record, log: log(dir) }));
    return dir;
  }
  const stamped = (name: string) => `${name}-2024-01-01T00-00-00-000Z-a1b2c3.log`;

  it.each<[string, (dir: string) => string]>([
    ['a file anywhere (/etc/shadow, or one of the user’s)', () => secret],
    ['a file in the ensemble folder', (dir) => join(dir, stamped('forged'))],
    [
      'a link in the state folder, named as its log',
      () => {
        const link = join(detached, stamped('forged'));
        rmSync(link, { force: true });
        symlinkSync(secret, link);
        return link;
      },
    ],
    [
      'another log in the state folder',
      () => {
        writeFileSync(join(detached, stamped('other')), 'root:not-for-the-model\n');
        return join(detached, stamped('other'));
      },
    ],
  ])('is never read from %s: refused, naming the field, printing nothing', async (_, log) => {
    const dir = namingLog(log);
    writeFileSync(join(dir, stamped('forged')), 'root:not-for-the-model\n');
    const result = await runModelrun(['logs', dir], { cwd: tree.root, env });
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('not-for-the-model');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ensemble.json's field \`log\` names`);
    expect(result.stderr).toContain(`read only from ${detached}`);
  });

  it('is read from the state folder, where --detach puts it', async () => {
    const dir = namingLog(() => join(detached, stamped('forged')));
    rmSync(join(detached, stamped('forged')), { force: true });
    writeFileSync(join(detached, stamped('forged')), '[1/1] done\n');
    const result = await runModelrun(['logs', dir], { cwd: tree.root, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('[1/1] done\n');
  });
});

describe('an ensemble record that is damaged or was edited', () => {
  let ran: string | undefined;
  /** A copy of a small ensemble's folder that ran, its ensemble.json (naming the copy) as `change` leaves it. */
  async function edited(change: (value: Record<string, unknown>) => void): Promise<string> {
    if (ran === undefined) {
      const id = uniqueId('whole');
      tree.write(
        `${id}.yml`,
        `model: model.yml\nensemble_id: ${id}\nrun_id: d{{ member.depth }}\nparameters:\n  config.depth: [1, 2]\n`,
      );
      const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
      expect(result.code, result.stderr).toBe(0);
      ran = tree.path('simulations', id);
    }
    const dir = tree.path('edited', uniqueId('ens'));
    cpSync(ran, dir, { recursive: true });
    // This folder's record, as if it had run here; `change` may say otherwise.
    const value = { ...record(dir), dir } as unknown as Record<string, unknown>;
    change(value);
    writeFileSync(join(dir, 'ensemble.json'), JSON.stringify(value));
    return dir;
  }

  it.each(['backend', 'totals'])(
    'is refused by status without %s, naming the file and the field: no bug (exit 70)',
    async (field) => {
      const dir = await edited((value) => delete value[field]);
      const result = await runModelrun(['status', dir], { cwd: tree.root });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(
        `${join(dir, 'ensemble.json')} is not an ensemble record that modelrun can read: its field \`${field}\` is missing`,
      );
      expect(result.stderr).not.toContain('unexpected error');
    },
  );

  it('is said to be cut short when it does not parse, not to be no run record', async () => {
    const dir = await edited(() => undefined);
    writeFileSync(
      join(dir, 'ensemble.json'),
      readFileSync(join(dir, 'ensemble.json'), 'utf8').slice(0, 60),
    );
    const result = await runModelrun(['wait', dir], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not JSON that parses: cut short');
    expect(result.stderr).not.toContain('holds no run record');
  });

  it('ends wait at once when it says running and names no modelrun that runs it', async () => {
    const dir = await edited((value) => {
      value.status = 'running';
      delete value.owner;
    });
    const began = Date.now();
    const result = await runModelrun(['wait', dir], { cwd: tree.root });
    // A modelrun gone is waited for as long as its guardian takes (15 s); none named, not at all.
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('record says running, but names no modelrun that runs it');
  });

  // On the old code status said such a record ran (exit 0), and left out why
  // an ensemble whose members all succeeded had failed.
  it('has status exit 1 for a record no modelrun runs, and say which aggregate step failed', async () => {
    const gone = await edited((value) => {
      value.status = 'running';
      delete value.owner;
    });
    const status = await runModelrun(['status', gone], { cwd: tree.root });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('running on record, but it names no modelrun that runs it');
    const failed = await edited((value) => {
      value.status = 'failed';
      value.aggregate = [{ type: 'command', status: 'failed', summary: 'exited 3' }];
    });
    const ended = await runModelrun(['status', failed], { cwd: tree.root });
    expect(ended.code).toBe(1);
    expect(ended.stdout).toContain('  aggregate command: failed: exited 3');
  });

  // On the old code a rewritten record's escape sequences reached the terminal.
  it('has status and wait show the text of a rewritten record with its escapes visible', async () => {
    const dir = await edited((value) => {
      value.status = 'failed';
      value.ensemble_id = 'e1\u001b]0;pwned\u0007';
      const [first] = value.members as Record<string, unknown>[];
      if (first !== undefined) Object.assign(first, { status: 'failed', reason: 'bad\u001b[2J' });
      value.aggregate = [{ type: 'command', status: 'failed', summary: 'x\u001b[31m' }];
    });
    for (const command of ['status', 'wait']) {
      const result = await runModelrun([command, dir], { cwd: tree.root });
      const shown = result.stdout + result.stderr;
      expect(shown, command).not.toContain('\u001b');
      expect(shown, command).not.toContain('\u0007');
      expect(shown, command).toContain('bad\\x1b[2J');
    }
  });

  it('has wait print the paths of the folder it was given, not those the record wrote', async () => {
    const dir = await edited((value) => {
      // The record of the folder it was copied from, ended.
      value.dir = ran;
      value.status = 'failed';
      for (const member of value.members as { status: string }[]) member.status = 'failed';
    });
    const result = await runModelrun(['wait', dir], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`record   ${join(dir, 'ensemble.json')}`);
    expect(result.stderr).toContain(`logs: modelrun logs ${join(dir, 'd1')}`);
    expect(result.stderr).not.toContain(ran);
  });
});

describe('an ensemble and what is not its own', () => {
  /**
   * Three members, one at a time, of a model whose first member (`<runId>-0`)
   * runs `planted` in its folder; and a folder of the user's beside, holding
   * `file` with `text`. Gives the ensemble's id and that folder.
   */
  function planting(
    runId: string,
    planted: (folder: string) => string,
    file: string,
    text: string,
  ) {
    const id = uniqueId(runId);
    const folder = tree.path(`${id}-theirs`);
    mkdirSync(folder);
    writeFileSync(join(folder, file), text);
    tree.write(
      `${id}.yml`,
      [
        'model:',
        `  run_id: ${runId}`,
        '  delete_existing: true',
        `  command: 'if [ "$(basename "$PWD")" = ${runId}-0 ]; then ${planted(folder)}; fi'`,
        `ensemble_id: ${id}`,
        'replicas: 3',
        'max_parallel: 1',
        '',
      ].join('\n'),
    );
    return { id, folder };
  }

  it('stages no member through a link a model put at its folder, and leaves what it leads to alone', async () => {
    const { id, folder: precious } = planting(
      'sb',
      (folder) => `ln -s ${folder} ../sb-2`,
      'results.nc',
      'keep me',
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    const member = record(tree.path('simulations', id)).members[2];
    expect(member?.status).toBe('failed');
    expect(member?.reason).toMatch(/sb-2 is a link to .*theirs, which modelrun did not make/);
    expect(readFileSync(join(precious, 'results.nc'), 'utf8')).toBe('keep me');
    expect(existsSync(join(precious, '.modelrun'))).toBe(false);
  });

  it('writes nothing through a link a model put in place of the ensemble folder', async () => {
    const { id, folder: victim } = planting(
      'pl',
      (folder) => `e=$(dirname "$PWD"); mv "$e" "$e.real"; ln -s ${folder} "$e"`,
      'ensemble.json',
      '{"victim": true}',
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(readFileSync(join(victim, 'ensemble.json'), 'utf8')).toBe('{"victim": true}');
    expect(existsSync(join(victim, 'pl-1'))).toBe(false);
    // The record went on in the folder itself, where it now is.
    // On the old code member 0's record, written at its old path between the
    // model's mv and its ln, made the folder anew there, and the link went inside it.
    const moved = record(tree.path('simulations', `${id}.real`));
    expect(moved.members.slice(1).map((m) => m.reason)).toEqual([
      expect.stringMatching(/was moved, removed or replaced by a link/),
      expect.stringMatching(/was moved, removed or replaced by a link/),
    ]);
    expect(lstatSync(tree.path('simulations', id)).isSymbolicLink()).toBe(true);
  });

  // On the old code member 1 was staged over it, as over an earlier run of its own.
  it('stages no member in a folder a model beside it moved to its path', async () => {
    const { id } = planting('st', () => 'echo zero > out.txt; mv "$PWD" ../st-1', 'x', '');
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    const ended = record(tree.path('simulations', id));
    expect(ended.members.map((m) => m.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(ended.members[1]?.reason).toMatch(
      /its folder .*st-1 appeared while the ensemble ran, and modelrun did not make it/,
    );
    // Member 0's folder, as it left it, with member 0's record.
    const moved = tree.path('simulations', id, 'st-1');
    expect(readFileSync(join(moved, 'out.txt'), 'utf8')).toBe('zero\n');
    expect(JSON.parse(readFileSync(join(moved, '.modelrun', 'run.json'), 'utf8')).run_id).toBe(
      'st-0',
    );
    // Nor later, with --resume, when it was there before the ensemble began.
    // On the old code member 1 was then staged over it.
    const resumed = await runModelrun(['ensemble', `${id}.yml`, '--resume'], { cwd: tree.root });
    expect(resumed.code).toBe(1);
    expect(record(tree.path('simulations', id)).members[1]?.reason).toMatch(
      /its folder .*st-1 holds the run record of st-0, not its own/,
    );
    expect(JSON.parse(readFileSync(join(moved, '.modelrun', 'run.json'), 'utf8')).run_id).toBe(
      'st-0',
    );
  });

  // On the old code the new folder, at the same path, passed for the ensemble's own.
  it('stages no member in another folder a model made where the ensemble folder was', async () => {
    const { id } = planting(
      'mk',
      () => 'e=$(dirname "$PWD"); mv "$e" "$e.real"; mkdir "$e"',
      'x',
      '',
    );
    const result = await runModelrun(['ensemble', `${id}.yml`], { cwd: tree.root });
    expect(result.code).toBe(1);
    expect(readdirSync(tree.path('simulations', id))).toEqual([]);
    const moved = record(tree.path('simulations', `${id}.real`));
    expect(moved.members.map((m) => m.status)).toEqual(['succeeded', 'failed', 'failed']);
    expect(moved.members[1]?.reason).toMatch(
      /was moved or removed, and another folder now stands at its path, which this ensemble did not make/,
    );
  });

  it('is never made in the home folder, nor over an ensemble.json of the user', async () => {
    const home = tree.path(uniqueId('home'));
    mkdirSync(home);
    tree.write(
      'at-home.yml',
      `model: model.yml\noutput_dir: ${join(home, '..')}\nensemble_id: ${home.split('/').at(-1)}\n`,
    );
    const atHome = await runModelrun(['ensemble', 'at-home.yml'], {
      cwd: tree.root,
      env: { HOME: home },
    });
    expect(atHome.code).toBe(2);
    expect(atHome.stderr).toContain('it is your home folder');
    expect(existsSync(join(home, 'ensemble.json'))).toBe(false);

    // The ensemble file itself, kept as ensemble.json in the folder the ensemble would use.
    const proj = tree.path(uniqueId('proj'));
    mkdirSync(join(proj, '.modelrun'), { recursive: true });
    const text = `{"model": "../model.yml", "output_dir": "..", "ensemble_id": "${proj.split('/').at(-1)}", "replicas": 2}`;
    writeFileSync(join(proj, 'ensemble.json'), text);
    const own = await runModelrun(['ensemble', join(proj, 'ensemble.json')], { cwd: tree.root });
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('is not an ensemble record of modelrun');
    expect(readFileSync(join(proj, 'ensemble.json'), 'utf8')).toBe(text);
  });
});

describe("an ensemble's secrets", () => {
  it("keeps a secret's value that ${NAME} put under an ordinary key off disk and out of every line", async () => {
    const id = uniqueId('secret');
    tree.write(
      `${id}.yml`,
      [
        'model:',
        '  run_id: s',
        '  command: "true"',
        `ensemble_id: ${id}`,
        'run_id: m{{ member.index }}',
        'parameters:',
        '  config.api_token: [tok-literal-4242]',
        '  config.label: ["${DB_PASSWORD}"]',
        '',
      ].join('\n'),
    );
    const env = { DB_PASSWORD: 'pw-hunter2-xyzzy' };
    const shown = await runModelrun(['ensemble', `${id}.yml`, '--dry-run', '--json'], {
      cwd: tree.root,
      env,
    });
    const result = await runModelrun(['ensemble', `${id}.yml`, '--json'], { cwd: tree.root, env });
    expect(result.code, result.stderr).toBe(0);
    const dir = tree.path('simulations', id);
    const written = [
      shown.stdout,
      shown.stderr,
      result.stdout,
      result.stderr,
      readFileSync(join(dir, 'ensemble.json'), 'utf8'),
      readFileSync(join(dir, 'm0', '.modelrun', 'run.json'), 'utf8'),
    ];
    for (const text of written) {
      expect(text).not.toContain('pw-hunter2-xyzzy');
      expect(text).not.toContain('tok-literal-4242');
    }

    // As a run id it would name a folder: refused, naming no value.
    tree.write(
      `${id}-named.yml`,
      readFileSync(tree.path(`${id}.yml`), 'utf8').replace(
        'm{{ member.index }}',
        'm-{{ member.label }}',
      ),
    );
    const named = await runModelrun(['ensemble', `${id}-named.yml`], { cwd: tree.root, env });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('the run id would hold the value of a secret');
    expect(named.stderr).not.toContain('pw-hunter2-xyzzy');
  });
});
